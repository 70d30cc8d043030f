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


def check_record(
    record: Mapping[str, Any], today: dt.date | None, *, stored: bool = False
) -> list[Problem]:
    """Every consistency problem of ``record``; ``today`` (London) enables the future checks
    (:func:`future_dates`), which apply when a record is submitted or converted.

    ``stored``: the record is read back from the store, where it was valid when written. Rules
    added since (an ``age_years`` agreeing with the date of birth) are not applied to it again:
    re-planning an incident must never fail on the record it already notified."""
    incident = record.get("incident") or {}
    children: Sequence[Mapping[str, Any]] = record.get("children") or []
    problems = list(_nature(incident, children))
    problems += _aware_dates(incident)
    if today is not None:
        problems += future_dates(record, today)
    for index, child in enumerate(children):
        problems += [
            (f"children.{index}.{field}", message)
            for field, message in _child(child, incident, stored=stored)
        ]
    return problems


def future_dates(record: Mapping[str, Any], today: dt.date) -> list[Problem]:
    """The dates of ``record`` that may not be after ``today`` (Europe/London) when a record is
    submitted or converted: ``became_aware_on`` (DESIGN.md §3), a child's ``date_of_death`` (a
    death not yet happened is not a fact to notify, §1-§2) and the ``date_of_birth`` of a child
    not recorded as unborn. ``plan`` asks what-if questions, so it only warns about these.
    Every message says "is in the future", which is how callers tell these problems apart."""
    problems: list[Problem] = []
    aware = (record.get("incident") or {}).get("became_aware_on")
    if aware and aware > today:
        problems.append(("incident.became_aware_on", _in_the_future(aware, today)))
    for index, child in enumerate(record.get("children") or []):
        died, born = child.get("date_of_death"), child.get("date_of_birth")
        if died and died > today:
            problems.append(
                (
                    f"children.{index}.date_of_death",
                    f"{_in_the_future(died, today)}: expected the date the child died, "
                    "on or before today",
                )
            )
        if born and born > today and not child.get("unborn"):
            problems.append(
                (
                    f"children.{index}.date_of_birth",
                    f"{_in_the_future(born, today)}: expected a date on or before today; a "
                    "child not born yet is recorded as unborn: true, without a date of birth",
                )
            )
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


def _aware_dates(incident: Mapping[str, Any]) -> Iterator[Problem]:
    happened, aware = incident.get("date"), incident.get("became_aware_on")
    if happened and aware and aware < happened:
        yield (
            "incident.became_aware_on",
            f"{aware.isoformat()} is before the incident date {happened.isoformat()}",
        )


def _in_the_future(day: dt.date, today: dt.date) -> str:
    return f"{day.isoformat()} is in the future (today is {today.isoformat()}, Europe/London)"


def _child(
    child: Mapping[str, Any], incident: Mapping[str, Any], *, stored: bool = False
) -> Iterator[Problem]:
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
    if not stored:
        yield from _age_agrees(child, incident)


def _age_agrees(child: Mapping[str, Any], incident: Mapping[str, Any]) -> Iterator[Problem]:
    """``age_years`` given with a ``date_of_birth`` must be the age that date gives on a day the
    rules take the age at (DESIGN.md §4): the incident date, the date of death, or, for
    historical harm, the day the LA became aware. Otherwise the record says two things and the
    rules would use one unseen. An estimated date of birth is not a fact to disagree with, so it
    is not checked."""
    born, age = child.get("date_of_birth"), child.get("age_years")
    happened = incident.get("date")
    if born is None or age is None or happened is None or child.get("date_of_birth_estimated"):
        return
    days = {
        "the incident date": happened,
        "the date of death": child.get("date_of_death"),
        "the day the LA became aware": incident.get("became_aware_on")
        if incident.get("historical_harm")
        else None,
    }
    ages: dict[int, tuple[str, dt.date]] = {}
    for name, day in days.items():
        if day is not None:
            ages.setdefault(_whole_years(born, day), (name, day))
    if age in ages:
        return
    expected = " or ".join(
        f"{years} (on {name} {day.isoformat()})" for years, (name, day) in ages.items()
    )
    yield (
        "age_years",
        f"{age} disagrees with the date of birth {born.isoformat()}: expected {expected}, "
        "or leave age_years empty (the two must agree unless date_of_birth_estimated is true)",
    )


def _whole_years(born: dt.date, on: dt.date) -> int:
    """Whole years from ``born`` to ``on``; 0 for a child born after ``on`` (harmed in utero)."""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)
