"""What each child of a record meets, row by row (DESIGN.md §2, §4), and what to check.

Each child is evaluated on its own (:func:`evaluate_child`), recording the rows it meets in the
incident's :class:`Findings`; :func:`adapter.rules.classification.classify` combines them. Ages
decide different things in different rows, each row reading its own date (the module docstring
of :mod:`adapter.rules.classification` says which).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.rules.ages import Age, age_on
from adapter.rules.cases import ABUSE, ADULT_AGE, CARE_LEAVER_MAX_AGE, HARMED, PanelConsultation


@dataclass(slots=True)
class Findings:
    """The rows the children of one incident meet, as they are evaluated."""

    serious: bool = False
    looked_after_deaths: list[dt.date | None] = field(default_factory=list)
    """The ``date_of_death`` (None: not known) of each looked-after child who died."""
    care_leaver_deaths: list[dt.date | None] = field(default_factory=list)
    """The same for each care leaver up to and including 24 who died."""
    young_adult: bool = False
    young_adult_consulted_notify: bool = False


def presumed_outcome(nature: str, children: Sequence[Mapping[str, Any]]) -> str | None:
    """What an ``unknown`` outcome is taken to be: the incident's nature, if no child shows it."""
    outcomes = {child["outcome"] for child in children}
    if nature == "death" and "died" not in outcomes:
        return "died"
    if nature == "serious_harm" and not outcomes & HARMED:
        return "seriously_harmed"
    return None


def evaluate_child(
    index: int,
    child: Mapping[str, Any],
    incident: Mapping[str, Any],
    presumed: str | None,
    consultation: PanelConsultation | None,
    findings: Findings,
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
    harmed = outcome in HARMED
    abuse = incident["abuse_or_neglect"] in ABUSE
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
    findings: Findings,
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
    who: str, child: Mapping[str, Any], age: Age | None, abuse: bool, findings: Findings
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
