"""A person's age on a date, as the rules read it (DESIGN.md §4).

From ``date_of_birth`` when known, else from ``age_years`` (read as the age on the incident date,
so an age on another date is a range of two years at most); an unborn child is 0.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Age:
    """The possible ages (whole years, inclusive bounds) of one person on one date."""

    low: int
    high: int

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low} or {self.high}"


def years_between(born: dt.date, on: dt.date) -> int:
    """Whole years from ``born`` to ``on`` (0 before the first birthday, never negative)."""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)


def _years_before(day: dt.date, years: int) -> dt.date:
    return years_later(day, -years)


def years_later(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def age_on(child: Mapping[str, Any], on: dt.date, incident_date: dt.date) -> Age | None:
    """The child's age on ``on``; None when neither a date of birth nor an age is known."""
    if child.get("unborn"):
        return Age(0, 0)
    born = child.get("date_of_birth")
    if born is not None:
        years = years_between(born, on)
        return Age(years, years)
    age_years = child.get("age_years")
    if age_years is None:
        return None
    if on == incident_date:
        return Age(age_years, age_years)
    # Born at the latest on incident_date - age_years, at the earliest a year and a day before.
    latest = _years_before(incident_date, age_years)
    earliest = _years_before(incident_date, age_years + 1) + dt.timedelta(days=1)
    return Age(years_between(latest, on), years_between(earliest, on))
