"""Warnings about an incident as a whole: its age, nature, suicide, identity, consultation.

What a reader should check besides the rows each child meets (DESIGN.md §2, §4); none of them
changes what is owed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from adapter.rules.ages import years_later
from adapter.rules.cases import ABUSE, OLD_INCIDENT_YEARS, PanelConsultation
from adapter.rules.children import Findings


def incident_warnings(
    incident: Mapping[str, Any],
    children: Sequence[Mapping[str, Any]],
    notifiable: bool,
    findings: Findings,
    consultation: PanelConsultation | None,
) -> Iterator[str]:
    """Warnings about the incident as a whole: age, nature, suicide, identity, consultation."""
    nature = incident["nature"]
    incident_date: dt.date = incident["date"]
    if incident["became_aware_on"] > years_later(incident_date, OLD_INCIDENT_YEARS):
        # DESIGN.md §4: an incident many years old is still notifiable; §2 asks partners to
        # weigh "the time that has elapsed since the harm occurred". (Not said of one that is
        # not notifiable, such as harm in childhood learnt of in adulthood: consult the Panel.)
        still = "an old incident is still notifiable; " if notifiable else ""
        yield (
            f"incident.date {incident_date.isoformat()} is more than a year before "
            f"became_aware_on {incident['became_aware_on'].isoformat()}: {still}check the "
            "dates, and whether it is historical harm (§2)"
        )
    if incident.get("suicide"):
        if not any(child["outcome"] == "died" for child in children):
            yield "incident.suicide is true but no child's outcome is 'died'"
        elif nature != "death" and incident["abuse_or_neglect"] in ABUSE:
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
