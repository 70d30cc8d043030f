"""What an incident record obliges the local authority to notify, and to whom (DESIGN.md §4).

:func:`classify` reads a *loaded* incident record (``IncidentRecordSchema().load``: dates are
``datetime.date``) and the Panel consultation, if any, and answers which rows of DESIGN.md §4
apply. Each child is evaluated on its own and the rows are combined: one notification per incident
however many children (§2), an abused looked-after child who died gets both the Panel and the
Secretary of State/Ofsted notifications.

The ``classification`` contract (part of the ``plan`` JSON, keep it stable): the names of the rows
that matched, in this order, never empty:

- ``serious_incident``: abuse or neglect known or suspected, and a child died or was seriously
  harmed (§1, §2); also a young adult's historical harm once the Panel said ``notify``; also an
  incident notified as one whose rapid review is recorded, when an amendment says otherwise
  (§2: facts that emerge later amend the notification, they do not withdraw it); listed too
  when another LA notifies it (``blocked_reason`` ``another_la_notifies``), owing nothing here;
- ``looked_after_child_death`` (§2, whatever the abuse finding);
- ``care_leaver_death``: aged up to and including 24 (§2);
- ``young_adult_historical_harm``: 18 or over on ``became_aware_on``, harm in childhood not known
  at the time; the Panel is consulted first (§2). Listed while blocked, after ``notify`` (next to
  ``serious_incident``) and after ``do_not_notify`` (then nothing else may be owed);
- ``not_notifiable``, alone, when none of the above matched: a local learning review may be
  recorded, never sent to the Panel (§2).

``notifiable`` means something is owed by this local authority now; ``blocked_reason`` says why
the serious-incident row is not: ``"panel_consultation_required"`` while a young adult's case
waits for the Panel's advice, ``"another_la_notifies"`` when the incident happened in another
English LA's area (§2 "the local authority where the incident occurred"). It may stand beside an
owed looked-after or care leaver death notification, which the responsible authority owes
wherever the death happened.

Ages decide different things in different rows (DESIGN.md §4), each row reading its own date:

- serious incident: harm in childhood, the person a child on ``incident.date``; then aware while
  still a child, or died under 18, is the ordinary row; aware at 18 or over (alive, or died at
  18 or over) with ``historical_harm`` is a young adult's case (consult the Panel, §2); without
  ``historical_harm`` the ordinary row, with a warning that it may be historical harm;
- looked-after child and care leaver deaths: the age at ``date_of_death``.

An age is read from ``date_of_birth``, else ``age_years`` (the age on ``incident.date``, so an
age on another date is a range of two years at most). A child is under 18 or unborn; an unknown
age counts as a child, with a warning wherever the age decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.ages import Age, age_on, years_later
from adapter.catalogue import addressees_of
from adapter.jurisdiction import LOCATION_UNKNOWN, another_la_notifies, owed_here_by

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
ANOTHER_LA_NOTIFIES = "another_la_notifies"
BLOCKED_REASONS = (PANEL_CONSULTATION_REQUIRED, ANOTHER_LA_NOTIFIES)
"""Why the serious-incident row is not owed here (DESIGN.md §4)."""

OLD_INCIDENT_YEARS = 1
"""DESIGN.md §4: ``plan`` warns when the incident is more than a year older than the awareness."""
BECAME_AWARE = "became_aware_on"
PANEL_CONSULTED = "panel_consulted"
DATE_OF_DEATH = "date_of_death"

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
    """``became_aware_on`` or ``panel_consulted`` (DESIGN.md §5), or ``date_of_death`` for a
    death notification when the child died after the local authority became aware (§2)."""
    trigger_on: dt.date
    case: str = ""
    """The catalogue case of ``document`` (:mod:`adapter.catalogue`), when it has several."""


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


@dataclass(slots=True)
class _Findings:
    serious: bool = False
    looked_after_deaths: list[dt.date | None] = field(default_factory=list)
    """The ``date_of_death`` (None: not known) of each looked-after child who died."""
    care_leaver_deaths: list[dt.date | None] = field(default_factory=list)
    """The same for each care leaver up to and including 24 who died."""
    young_adult: bool = False
    young_adult_consulted_notify: bool = False


def _presumed_outcome(nature: str, children: Sequence[Mapping[str, Any]]) -> str | None:
    """What an ``unknown`` outcome is taken to be: the incident's nature, if no child shows it."""
    outcomes = {child["outcome"] for child in children}
    if nature == "death" and "died" not in outcomes:
        return "died"
    if nature == "serious_harm" and not outcomes & _HARMED:
        return "seriously_harmed"
    return None


def classify(
    record: Mapping[str, Any],
    consultation: PanelConsultation | None = None,
    *,
    rapid_review_completed_on: dt.date | None = None,
) -> Classification:
    """The rows of DESIGN.md §4 that ``record`` meets, combined over its children (§2).

    ``rapid_review_completed_on`` is the date of a rapid review recorded before this version of
    the record: the incident was then notified as a serious incident and its review process has
    begun, so it stays a serious incident whatever an amendment now says (§2).
    """
    incident = record["incident"]
    children: Sequence[Mapping[str, Any]] = record["children"]
    aware: dt.date = incident["became_aware_on"]
    warnings: list[str] = []
    findings = _Findings()
    presumed = _presumed_outcome(incident["nature"], children)
    for index, child in enumerate(children):
        warnings += _evaluate_child(index, child, incident, presumed, consultation, findings)

    owed_here, where = owed_here_by(incident.get("location"))
    meets = findings.serious or findings.young_adult_consulted_notify
    kept = rapid_review_completed_on is not None and not meets
    elsewhere = not owed_here and not kept and (meets or findings.young_adult)
    serious = (meets and not elsewhere) or kept
    blocked_reason = (
        ANOTHER_LA_NOTIFIES
        if elsewhere
        else PANEL_CONSULTATION_REQUIRED
        if findings.young_adult and consultation is None and not serious
        else None
    )
    documents: list[Notification] = []
    if serious:
        trigger, trigger_on = (
            (PANEL_CONSULTED, consultation.on)
            if not findings.serious
            and consultation is not None
            and consultation.outcome == "notify"
            else (BECAME_AWARE, aware)
        )
        # §2: the Panel within five working days; §3: the rapid review within 15 working days.
        documents.append(_owed("incident_notification", trigger, trigger_on))
        documents.append(_owed("rapid_review", trigger, trigger_on, case="notified"))
    if kept:
        warnings.append(_kept_notified(rapid_review_completed_on))
    for document, deaths in (
        # §2: "regardless of whether or not abuse or neglect occurred"; owed by the LA that
        # looked after or supported the person, wherever the death happened (DESIGN.md §4).
        ("looked_after_child_death_notification", findings.looked_after_deaths),
        ("care_leaver_death_notification", findings.care_leaver_deaths),
    ):
        if deaths:
            documents.append(_death_notification(document, deaths, aware))

    matched = [
        name
        for name, hit in (
            (SERIOUS_INCIDENT, serious or (elsewhere and meets)),
            (LOOKED_AFTER_CHILD_DEATH, bool(findings.looked_after_deaths)),
            (CARE_LEAVER_DEATH, bool(findings.care_leaver_deaths)),
            (YOUNG_ADULT_HISTORICAL_HARM, findings.young_adult),
        )
        if hit
    ]
    if elsewhere:
        warnings.append(another_la_notifies(bool(documents)))
    elif where is None and (serious or findings.young_adult):
        warnings.append(LOCATION_UNKNOWN)
    warnings += _incident_warnings(incident, children, bool(documents), findings, consultation)
    return Classification(
        notifiable=bool(documents),
        blocked_reason=blocked_reason,
        classification=tuple(matched) or (NOT_NOTIFIABLE,),
        rapid_review_required=serious,
        documents=tuple(documents),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _kept_notified(rapid_review_completed_on: dt.date | None) -> str:
    """Why an amended record that no longer meets §1 still owes the review process (§2, §3)."""
    return (
        "the record as amended would not now be notified to the Panel as a serious incident "
        "(§1: abuse or neglect known or suspected, and a child died or was seriously harmed), "
        f"but it was, and its rapid review was completed on {rapid_review_completed_on}: it "
        "stays a serious incident and follows the review process (§2: only incidents notified "
        "as serious incidents are subject to it); the partners decide whether a review follows "
        "(§4)"
    )


def _death_notification(
    document: str, deaths: Sequence[dt.date | None], aware: dt.date
) -> Notification:
    """§2: the death is what is notified, so its clock starts when the local authority is aware
    of the incident and the child has died: at the death when it came later (a harmed child who
    died afterwards). A death whose date is not known counts from ``became_aware_on``."""
    known = [died for died in deaths if died is not None]
    first_death = min(known) if len(known) == len(deaths) else None
    if first_death is not None and first_death > aware:
        return _owed(document, DATE_OF_DEATH, first_death)
    return _owed(document, BECAME_AWARE, aware)


def _owed(document: str, trigger: str, trigger_on: dt.date, case: str = "") -> Notification:
    """A notification owed to the addressees the catalogue names for it (DESIGN.md §5)."""
    return Notification(document, addressees_of(document, case), trigger, trigger_on, case)


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
    # DESIGN.md §4: the death rows read the age at death (the incident date if not known).
    age_at_death = age_on(child, child.get("date_of_death") or incident_date, incident_date)

    if abuse and harmed:
        yield from _serious_row(who, child, incident, age_at_death if died else None, findings)
        if findings.young_adult and consultation is not None:
            findings.young_adult_consulted_notify = consultation.outcome == "notify"
    if died and child.get("looked_after"):
        findings.looked_after_deaths.append(child.get("date_of_death"))
        if age_at_death is not None and age_at_death.low >= ADULT_AGE:
            yield (
                f"{who}: looked_after but aged {age_at_death} at death; a looked-after child is "
                "under 18: notified as a looked-after child's death (§2), check the record"
            )
    if died and child.get("care_leaver"):
        yield from _care_leaver_row(who, child, age_at_death, abuse, findings)


def _child(age: Age | None) -> bool:
    """Whether a person of this age counts as a child (an unknown age counts as one)."""
    return age is None or age.low < ADULT_AGE


def _serious_row(
    who: str,
    child: Mapping[str, Any],
    incident: Mapping[str, Any],
    age_at_death: Age | None,
    findings: _Findings,
) -> Iterator[str]:
    """§1, §2: abuse or neglect known or suspected, and a child died or was seriously harmed.

    ``age_at_death`` is given when the person died. DESIGN.md §4: the harm must be in childhood
    (a child on ``incident.date``); then the route depends on when the LA learnt of it.
    """
    incident_date: dt.date = incident["date"]
    aware: dt.date = incident["became_aware_on"]
    died = age_at_death is not None or child["outcome"] == "died"
    age_harmed = age_on(child, incident_date, incident_date)
    if not _child(age_harmed):
        if not (died and child.get("care_leaver")):  # else the care leaver row says it (§2)
            yield (
                f"{who}: aged {age_harmed} on incident.date, not a child (§1: under 18): not "
                "harm in childhood, so no Panel notification or rapid review for this person"
            )
        return
    if age_harmed is not None and age_harmed.high >= ADULT_AGE:
        yield (
            f"{who}: aged {age_harmed} on incident.date: treated as a child (under 18) for the "
            "serious incident notification (§1); check the date of birth"
        )
    if died and child.get("care_leaver") and not _child(age_at_death):
        return  # §2 "Care leavers aged 18 or over": no rapid review; the care leaver row says it
    age_aware = age_on(child, aware, incident_date)
    if (died and _child(age_at_death)) or _child(age_aware):
        # Aware while still a child, or the child died under 18 (whenever the LA learnt of it).
        if (
            incident.get("historical_harm")
            and not (died and _child(age_at_death))
            and (age_aware is None or age_aware.high >= ADULT_AGE)
        ):
            shown = "unknown" if age_aware is None else f"{age_aware}"
            yield (
                f"{who}: historical harm and age on became_aware_on {shown}: treated as under "
                "18 (ordinary rows); if 18 or over, consult the Panel before notifying (§2)"
            )
        findings.serious = True
        return
    if incident.get("historical_harm"):
        # §2: young adults harmed in childhood, not known at the time: consult the Panel first.
        findings.young_adult = True
        return
    yield (
        f"{who}: harmed as a child (aged {age_harmed} on incident.date) but aged {age_aware} "
        "when the local authority became aware: notified as a child's serious incident; if "
        "the harm was not known or reported at the time, this may be historical harm "
        "(incident.historical_harm): then consult the Panel before notifying (§2)"
    )
    findings.serious = True


def _care_leaver_row(
    who: str, child: Mapping[str, Any], age: Age | None, abuse: bool, findings: _Findings
) -> Iterator[str]:
    """§2: the death of a care leaver up to and including 24 is notified to the SoS and Ofsted."""
    if age is None:
        findings.care_leaver_deaths.append(child.get("date_of_death"))
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
    findings.care_leaver_deaths.append(child.get("date_of_death"))
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
    """Warnings about the incident as a whole: age, nature, suicide, identity, consultation."""
    nature = incident["nature"]
    incident_date: dt.date = incident["date"]
    if incident["became_aware_on"] > years_later(incident_date, OLD_INCIDENT_YEARS):
        # DESIGN.md §4: an incident many years old is still notifiable; §2 asks partners to
        # weigh "the time that has elapsed since the harm occurred".
        yield (
            f"incident.date {incident_date.isoformat()} is more than a year before "
            f"became_aware_on {incident['became_aware_on'].isoformat()}: an old incident is "
            "still notifiable; check the dates, and whether it is historical harm (§2)"
        )
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
