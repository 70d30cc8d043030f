"""Consistency rules across fields of one incident record (DESIGN.md §3), as plain functions.

Shared by :class:`schemas.incident.IncidentRecordSchema` and the importers, which build typed
records without paying for a full schema load per row. Each rule returns ``(path, message)``
pairs, ``path`` dotted like ``children.0.date_of_death``. Input is a *loaded* record: dates are
``datetime.date`` objects, absent values are ``None`` or missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Problem = tuple[str, str]


def check_record(record: Mapping[str, Any], today: dt.date | None) -> list[Problem]:
    """Every consistency problem of ``record``; ``today`` (London) enables the future check."""
    incident = record.get("incident") or {}
    children: Sequence[Mapping[str, Any]] = record.get("children") or []
    problems = list(_nature(incident, children))
    problems += _aware_dates(incident, today)
    for index, child in enumerate(children):
        problems += [(f"children.{index}.{field}", message) for field, message in _child(child)]
    return problems


def expected_nature(children: Sequence[Mapping[str, Any]]) -> str | None:
    """The nature the outcomes imply: any death makes it a death, else any serious harm (§2)."""
    outcomes = {child.get("outcome") for child in children}
    if "died" in outcomes:
        return "death"
    if "seriously_harmed" in outcomes:
        return "serious_harm"
    return None


def _nature(
    incident: Mapping[str, Any], children: Sequence[Mapping[str, Any]]
) -> Iterator[Problem]:
    nature = incident.get("nature")
    rationale = (incident.get("other_rationale") or "").strip()
    if nature == "other":
        if not rationale:
            yield (
                "incident.other_rationale",
                "required when nature is 'other': §2 asks for a clear rationale",
            )
        return
    expected = expected_nature(children)
    if expected is not None and nature != expected:
        yield (
            "incident.nature",
            f"'{nature}' disagrees with the children's outcomes, which make it '{expected}' "
            "(use 'other' with other_rationale to depart from that)",
        )
    elif expected is None and not any(c.get("outcome") == "unknown" for c in children):
        wanted = "died" if nature == "death" else "seriously_harmed"
        yield ("incident.nature", f"'{nature}' but no child's outcome is '{wanted}' or 'unknown'")


def _aware_dates(incident: Mapping[str, Any], today: dt.date | None) -> Iterator[Problem]:
    happened, aware = incident.get("date"), incident.get("became_aware_on")
    if happened and aware and aware < happened:
        yield (
            "incident.became_aware_on",
            f"{aware.isoformat()} is before the incident date {happened.isoformat()}",
        )
    if today is not None and aware and aware > today:
        yield (
            "incident.became_aware_on",
            f"{aware.isoformat()} is in the future (today is {today.isoformat()}, Europe/London)",
        )


def _child(child: Mapping[str, Any]) -> Iterator[Problem]:
    born, died = child.get("date_of_birth"), child.get("date_of_death")
    if child.get("identity_known") and not (
        born or child.get("age_years") is not None or child.get("unborn")
    ):
        yield (
            "date_of_birth",
            "a child whose identity is known needs date_of_birth, age_years or unborn: true",
        )
    if died and child.get("outcome") != "died":
        yield ("date_of_death", f"given, but outcome is '{child.get('outcome')}', not 'died'")
    if born and died and died < born:
        yield (
            "date_of_death",
            f"{died.isoformat()} is before the date of birth {born.isoformat()}",
        )
    if child.get("unborn") and born:
        yield ("date_of_birth", "an unborn child has no date of birth (leave it empty)")
