"""What an incident record obliges the local authority to notify, and to whom (DESIGN.md §4).

:func:`classify` reads a *loaded* incident record (``IncidentRecordSchema().load``: dates are
``datetime.date``) and the Panel consultation, if any, and answers which rows of DESIGN.md §4
apply. Each child is evaluated on its own and the rows are combined: one notification per incident
however many children (§2), an abused looked-after child who died gets both the Panel and the
Secretary of State/Ofsted notifications.

The ``classification`` contract (part of the ``plan`` JSON, keep it stable): the names of the rows
that matched, in this order, never empty:

- ``serious_incident``: abuse or neglect known or suspected, and a child died or was seriously
  harmed (§1, §2); also a young adult's historical harm once the Panel said ``notify``;
- ``looked_after_child_death`` (§2, whatever the abuse finding);
- ``care_leaver_death``: aged up to and including 24 (§2);
- ``young_adult_historical_harm``: 18 or over on ``became_aware_on``, harm in childhood not known
  at the time; the Panel is consulted first (§2). Listed while blocked, after ``notify`` (next to
  ``serious_incident``) and after ``do_not_notify`` (then nothing else may be owed);
- ``not_notifiable``, alone, when none of the above matched: a local learning review may be
  recorded, never sent to the Panel (§2).

``notifiable`` means a notification is owed now; ``blocked_reason`` is
``"panel_consultation_required"`` while a young adult's case waits for the Panel's advice and no
other row already notifies the Panel (then ``notifiable`` may still be true for the Secretary of
State/Ofsted rows of another child).

Ages: at ``date_of_death``, else at ``incident.date``, from ``date_of_birth``, else ``age_years``
(read as the age on ``incident.date``, so an age on another date is a range of two years at most).
A child is under 18 or unborn; an unknown age counts as a child, with a warning wherever the age
decides (care leaver up to 24, 18 or over).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ADULT_AGE = 18
"""A child is under 18 (or unborn)."""

CARE_LEAVER_MAX_AGE = 24
"""§2: the death of a care leaver "up to and including the age of 24" is notified."""

SERIOUS_INCIDENT = "serious_incident"
LOOKED_AFTER_CHILD_DEATH = "looked_after_child_death"
CARE_LEAVER_DEATH = "care_leaver_death"
YOUNG_ADULT_HISTORICAL_HARM = "young_adult_historical_harm"
NOT_NOTIFIABLE = "not_notifiable"
CASES = (
    SERIOUS_INCIDENT,
    LOOKED_AFTER_CHILD_DEATH,
    CARE_LEAVER_DEATH,
    YOUNG_ADULT_HISTORICAL_HARM,
)
"""The rows of DESIGN.md §4, in the order ``classification`` lists them."""

PANEL_CONSULTATION_REQUIRED = "panel_consultation_required"
BECAME_AWARE = "became_aware_on"
PANEL_CONSULTED = "panel_consulted"

_ABUSE = frozenset({"known", "suspected"})
_HARMED = frozenset({"died", "seriously_harmed"})


@dataclass(frozen=True, slots=True)
class PanelConsultation:
    """The Panel's advice about a young adult's historical harm (§2): notify or do_not_notify."""

    on: dt.date
    outcome: str


@dataclass(frozen=True, slots=True)
class Notification:
    """A document owed because of the record itself, its addressees and what starts its clock."""

    document: str
    addressees: tuple[str, ...]
    trigger: str
    """``became_aware_on`` or ``panel_consulted`` (DESIGN.md §5)."""
    trigger_on: dt.date


@dataclass(frozen=True, slots=True)
class Classification:
    """Which rows of DESIGN.md §4 apply, what is owed to whom, and what a reader should check."""

    notifiable: bool
    blocked_reason: str | None
    classification: tuple[str, ...]
    rapid_review_required: bool
    documents: tuple[Notification, ...]
    warnings: tuple[str, ...]

    @property
    def panel_trigger(self) -> Notification | None:
        """The Panel notification, whose trigger also starts the rapid review's clock (§3)."""
        for notification in self.documents:
            if notification.document == "incident_notification":
                return notification
        return None


@dataclass(frozen=True, slots=True)
class _Age:
    """The possible ages (whole years, inclusive bounds) of one person on one date."""

    low: int
    high: int

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low} or {self.high}"


@dataclass(slots=True)
class _Findings:
    serious: bool = False
    looked_after_death: bool = False
    care_leaver_death: bool = False
    young_adult: bool = False
    young_adult_consulted_notify: bool = False


def _years_between(born: dt.date, on: dt.date) -> int:
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _age(child: Mapping[str, Any], on: dt.date, incident_date: dt.date) -> _Age | None:
    """The child's age on ``on``; None when neither a date of birth nor an age is known."""
    if child.get("unborn"):
        return _Age(0, 0)
    born = child.get("date_of_birth")
    if born is not None:
        years = _years_between(born, on)
        return _Age(years, years)
    age_years = child.get("age_years")
    if age_years is None:
        return None
    if on == incident_date:
        return _Age(age_years, age_years)
    # Born at the latest on incident_date - age_years, at the earliest a year and a day before.
    latest = _years_before(incident_date, age_years)
    earliest = _years_before(incident_date, age_years + 1) + dt.timedelta(days=1)
    return _Age(_years_between(latest, on), _years_between(earliest, on))


def _presumed_outcome(nature: str, children: Sequence[Mapping[str, Any]]) -> str | None:
    """What an ``unknown`` outcome is taken to be: the incident's nature, if no child shows it."""
    outcomes = {child["outcome"] for child in children}
    if nature == "death" and "died" not in outcomes:
        return "died"
    if nature == "serious_harm" and not outcomes & _HARMED:
        return "seriously_harmed"
    return None


def classify(
    record: Mapping[str, Any], consultation: PanelConsultation | None = None
) -> Classification:
    """The rows of DESIGN.md §4 that ``record`` meets, combined over its children (§2)."""
    incident = record["incident"]
    children: Sequence[Mapping[str, Any]] = record["children"]
    aware: dt.date = incident["became_aware_on"]
    warnings: list[str] = []
    findings = _Findings()
    presumed = _presumed_outcome(incident["nature"], children)
    for index, child in enumerate(children):
        warnings += _evaluate_child(index, child, incident, presumed, consultation, findings)

    blocked = findings.young_adult and consultation is None and not findings.serious
    serious = findings.serious or findings.young_adult_consulted_notify
    documents: list[Notification] = []
    if serious:
        trigger, trigger_on = (
            (BECAME_AWARE, aware)
            if findings.serious or consultation is None
            else (PANEL_CONSULTED, consultation.on)
        )
        # §2: the Panel within five working days; §3: the rapid review within 15 working days.
        documents.append(Notification("incident_notification", ("panel",), trigger, trigger_on))
        documents.append(Notification("rapid_review", ("panel",), trigger, trigger_on))
    if findings.looked_after_death:
        # §2: "regardless of whether or not abuse or neglect occurred".
        documents.append(
            Notification(
                "looked_after_child_death_notification",
                ("secretary_of_state", "ofsted"),
                BECAME_AWARE,
                aware,
            )
        )
    if findings.care_leaver_death:
        documents.append(
            Notification(
                "care_leaver_death_notification",
                ("secretary_of_state", "ofsted"),
                BECAME_AWARE,
                aware,
            )
        )

    matched = [
        name
        for name, hit in (
            (SERIOUS_INCIDENT, serious),
            (LOOKED_AFTER_CHILD_DEATH, findings.looked_after_death),
            (CARE_LEAVER_DEATH, findings.care_leaver_death),
            (YOUNG_ADULT_HISTORICAL_HARM, findings.young_adult),
        )
        if hit
    ]
    warnings += _incident_warnings(incident, children, bool(documents), findings, consultation)
    return Classification(
        notifiable=bool(documents),
        blocked_reason=PANEL_CONSULTATION_REQUIRED if blocked else None,
        classification=tuple(matched) or (NOT_NOTIFIABLE,),
        rapid_review_required=serious,
        documents=tuple(documents),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _evaluate_child(
    index: int,
    child: Mapping[str, Any],
    incident: Mapping[str, Any],
    presumed: str | None,
    consultation: PanelConsultation | None,
    findings: _Findings,
) -> Iterator[str]:
    """Record in ``findings`` the rows this child meets; yield what a reader should check."""
    who = f"children.{index}"
    outcome = child["outcome"]
    if outcome == "unknown":
        if presumed is not None:
            outcome = presumed
            yield (
                f"{who}: outcome unknown, taken as '{presumed}' from the incident's nature "
                f"'{incident['nature']}'; amend the record when it is known (§2)"
            )
        else:
            yield (
                f"{who}: outcome unknown, so the rows that depend on it are not applied to "
                "this child; amend the record when it is known (§2)"
            )
    died = outcome == "died"
    harmed = outcome in _HARMED
    abuse = incident["abuse_or_neglect"] in _ABUSE
    incident_date: dt.date = incident["date"]
    at_harm = child.get("date_of_death") or incident_date
    age = _age(child, at_harm, incident_date)

    if abuse and harmed:
        yield from _serious_row(who, child, incident, age, died, consultation, findings)
    if died and child.get("looked_after"):
        findings.looked_after_death = True
        if age is not None and age.low >= ADULT_AGE:
            yield (
                f"{who}: looked_after but aged {age} at death; a looked-after child is under "
                "18: notified as a looked-after child's death (§2), check the record"
            )
    if died and child.get("care_leaver"):
        yield from _care_leaver_row(who, age, abuse, findings)


def _serious_row(
    who: str,
    child: Mapping[str, Any],
    incident: Mapping[str, Any],
    age: _Age | None,
    died: bool,
    consultation: PanelConsultation | None,
    findings: _Findings,
) -> Iterator[str]:
    """§1, §2: abuse or neglect known or suspected, and a child died or was seriously harmed."""
    if incident.get("historical_harm"):
        if age is not None and age.low >= ADULT_AGE:
            # DESIGN.md §4, §2: historical harm is harm in childhood; §1: a child is under 18.
            yield (
                f"{who}: historical harm, but aged {age} when harmed: not harm in childhood "
                "(§1: under 18), so no Panel notification or rapid review for this person"
            )
            return
        # DESIGN.md §4: for historical harm the age that decides is the age on became_aware_on.
        aware = incident["became_aware_on"]
        age_aware = _age(child, aware, incident["date"])
        if age_aware is not None and age_aware.low >= ADULT_AGE:
            # §2: young adults harmed in childhood: consult the Panel before notifying.
            findings.young_adult = True
            if consultation is not None and consultation.outcome == "notify":
                findings.young_adult_consulted_notify = True
            return
        if age_aware is None or age_aware.high >= ADULT_AGE:
            shown = "unknown" if age_aware is None else f"{age_aware}"
            yield (
                f"{who}: historical harm and age on became_aware_on {shown}: treated as under "
                "18 (ordinary rows); if 18 or over, consult the Panel before notifying (§2)"
            )
        findings.serious = True
        return
    if age is not None and age.low >= ADULT_AGE:
        if not (died and child.get("care_leaver")):  # else the care leaver row says it (§2)
            yield (
                f"{who}: aged {age}, not a child (§1: under 18), so no Panel notification or "
                "rapid review for this person"
            )
        return
    if age is not None and age.high >= ADULT_AGE:
        yield (
            f"{who}: aged {age}: treated as a child (under 18) for the serious incident "
            "notification (§1); check the date of birth"
        )
    findings.serious = True


def _care_leaver_row(who: str, age: _Age | None, abuse: bool, findings: _Findings) -> Iterator[str]:
    """§2: the death of a care leaver up to and including 24 is notified to the SoS and Ofsted."""
    if age is None:
        findings.care_leaver_death = True
        yield (
            f"{who}: care leaver of unknown age: notified as a care leaver's death, owed up to "
            "and including age 24 (§2); check the age"
        )
        return
    if age.low > CARE_LEAVER_MAX_AGE:
        yield (
            f"{who}: care leaver aged {age} at death: over 24, so no care leaver death "
            "notification (§2)"
        )
        return
    findings.care_leaver_death = True
    if age.high > CARE_LEAVER_MAX_AGE:
        yield (
            f"{who}: care leaver aged {age} at death: notified as if 24 or under (§2); "
            "check the date of birth"
        )
    if abuse and age.low >= ADULT_AGE:
        yield (
            f"{who}: care leaver aged 18 or over: no rapid review or local review is required "
            "for them (§2 'Care leavers aged 18 or over')"
        )


def _incident_warnings(
    incident: Mapping[str, Any],
    children: Sequence[Mapping[str, Any]],
    notifiable: bool,
    findings: _Findings,
    consultation: PanelConsultation | None,
) -> Iterator[str]:
    """Warnings about the incident as a whole: nature, suicide, identity, the consultation."""
    nature = incident["nature"]
    if incident.get("suicide"):
        if not any(child["outcome"] == "died" for child in children):
            yield "incident.suicide is true but no child's outcome is 'died'"
        elif nature != "death" and incident["abuse_or_neglect"] in _ABUSE:
            yield (
                "incident.nature: a suicide where abuse or neglect is a factor is notified as a "
                "'death' (§2)"
            )
    if nature == "other" and not (findings.serious or findings.young_adult):
        yield (
            "incident.nature is 'other': classified by the children's outcomes, which do not "
            "meet §1 (abuse or neglect known or suspected, and a child died or was seriously "
            "harmed)"
        )
    if notifiable and any(not child["identity_known"] for child in children):
        yield (
            "a child's identity is not known: notify without delay with what is known and "
            "amend the record later (§2)"
        )
    if findings.young_adult and consultation is None and findings.serious:
        yield (
            "a young adult (18 or over on became_aware_on) with historical harm is part of an "
            "incident notified for another child: consult the Panel about them (§2)"
        )
    if consultation is not None and not findings.young_adult:
        yield (
            "panel_consulted recorded, but no one was 18 or over on became_aware_on with "
            "harm meeting §1: the ordinary rows apply"
        )
