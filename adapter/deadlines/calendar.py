"""The working-day calendar of DESIGN.md §5: England-and-Wales bank holidays, weekends, closures.

A working day is Monday to Friday, except England-and-Wales bank holidays (the ``holidays``
package, ``UK(subdiv="ENG")``, with substitute days and one-off holidays such as the 2022 State
Funeral) and the extra closure dates of ``policy.yaml``. "N working days after D" is the N-th
working day strictly after D, whatever day D is; "N working days before P" is the N-th working day
strictly before P (§2, §3, §8 count in working days). "6 months from D" is the same day number six
calendar months later, clamped to the month's last day (§8).

The calendar only answers for the years ``Policy.calendar_first_year..calendar_last_year``: one-off
holidays are announced late, so a date (or a sum reaching a date) outside them raises
:class:`CalendarRangeError` rather than guessing. Every sum reports the bank holidays and closures
it skipped, so that each deadline can explain itself.

Speed: the non-working days of the known years are computed once per policy (see
:func:`calendar_for`), with the rank of every day among the working days, so that adding or
subtracting N working days is two list look-ups and finding the skipped days two bisections.
"""

from __future__ import annotations

import bisect
import calendar as _gregorian
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import holidays

from adapter.errors import CalendarRangeError
from config.settings import Policy

LOCAL_CLOSURE = "local closure"
"""The name given in explanations to an extra closure date from ``policy.yaml``."""

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class Closure:
    """A weekday that is not a working day: a bank holiday or a local closure, with its name."""

    day: dt.date
    name: str

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}"


@dataclass(frozen=True, slots=True)
class WorkingDaySum:
    """The result of "N working days after/before D", with the closures it stepped over."""

    start: dt.date
    working_days: int
    direction: str
    """``"after"`` or ``"before"``."""
    result: dt.date
    skipped: tuple[Closure, ...]


class WorkingDayCalendar:
    """Working days of the years ``first_year..last_year`` (inclusive); see :func:`calendar_for`."""

    def __init__(self, first_year: int, last_year: int, closures: Mapping[dt.date, str]) -> None:
        if first_year > last_year:
            raise ValueError("first_year must not be after last_year")
        self.first_year = first_year
        self.last_year = last_year
        self.first_day = dt.date(first_year, 1, 1)
        self.last_day = dt.date(last_year, 12, 31)
        self._base = self.first_day.toordinal()
        end = self.last_day.toordinal()
        weekday_closures = {
            day.toordinal(): name
            for day, name in closures.items()
            if self.first_day <= day <= self.last_day and day.weekday() < _SATURDAY
        }
        self._closure_names = weekday_closures
        self._closed = sorted(weekday_closures)
        working: list[int] = []
        rank: list[int] = []
        # rank[i]: how many working days there are up to and including day base + i.
        for ordinal in range(self._base, end + 1):
            # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday.
            if (ordinal - 1) % 7 < _SATURDAY and ordinal not in weekday_closures:
                working.append(ordinal)
            rank.append(len(working))
        self._working = working
        self._rank = rank

    @property
    def known_range(self) -> str:
        """The known years as they appear in error messages."""
        return f"{self.first_year}-{self.last_year}"

    def _index(self, day: dt.date) -> int:
        index = day.toordinal() - self._base
        if not 0 <= index < len(self._rank):
            raise CalendarRangeError(
                f"{day.isoformat()} is outside the years whose bank holidays are known "
                f"({self.known_range}; calendar_first_year/calendar_last_year in policy.yaml)"
            )
        return index

    def is_working_day(self, day: dt.date) -> bool:
        index = self._index(day)
        return self._rank[index] != (self._rank[index - 1] if index else 0)

    def closure_name(self, day: dt.date) -> str | None:
        """The bank holiday or closure falling on a weekday ``day``, else None."""
        self._index(day)
        return self._closure_names.get(day.toordinal())

    def closures_between(self, after: dt.date, until: dt.date) -> tuple[Closure, ...]:
        """Weekday closures strictly after ``after`` and on or before ``until``."""
        self._index(after)
        self._index(until)
        return self._closures(after.toordinal(), until.toordinal())

    def _closures(self, after_ordinal: int, until_ordinal: int) -> tuple[Closure, ...]:
        low = bisect.bisect_right(self._closed, after_ordinal)
        high = bisect.bisect_right(self._closed, until_ordinal)
        if low >= high:
            return ()
        return tuple(
            Closure(dt.date.fromordinal(o), self._closure_names[o]) for o in self._closed[low:high]
        )

    def working_days_between(self, after: dt.date, until: dt.date) -> int:
        """How many working days fall strictly after ``after`` and on or before ``until``."""
        return self._rank[self._index(until)] - self._rank[self._index(after)]

    def add_working_days(self, start: dt.date, working_days: int) -> WorkingDaySum:
        """The ``working_days``-th working day strictly after ``start`` (0 gives ``start``)."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        if working_days == 0:
            return WorkingDaySum(start, 0, "after", start, ())
        position = self._rank[self._index(start)] + working_days - 1
        if position >= len(self._working):
            raise CalendarRangeError(
                f"{working_days} working days after {start.isoformat()} reaches beyond "
                f"{self.last_day.isoformat()}: bank holidays are known only for {self.known_range} "
                "(calendar_last_year in policy.yaml)"
            )
        result = self._working[position]
        return WorkingDaySum(
            start,
            working_days,
            "after",
            dt.date.fromordinal(result),
            self._closures(start.toordinal(), result),
        )

    def subtract_working_days(self, start: dt.date, working_days: int) -> WorkingDaySum:
        """The ``working_days``-th working day strictly before ``start`` (0 gives ``start``)."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        if working_days == 0:
            return WorkingDaySum(start, 0, "before", start, ())
        index = self._index(start)
        position = (self._rank[index - 1] if index else 0) - working_days
        if position < 0:
            raise CalendarRangeError(
                f"{working_days} working days before {start.isoformat()} reaches before "
                f"{self.first_day.isoformat()}: bank holidays are known only for "
                f"{self.known_range} (calendar_first_year in policy.yaml)"
            )
        result = self._working[position]
        # Closures strictly between the result and start: (result, start - 1].
        return WorkingDaySum(
            start,
            working_days,
            "before",
            dt.date.fromordinal(result),
            self._closures(result, start.toordinal() - 1),
        )

    def add_months(self, start: dt.date, months: int) -> dt.date:
        """The same day number ``months`` calendar months later, clamped to the month's end (§8)."""
        self._index(start)
        result = add_calendar_months(start, months)
        self._index(result)
        return result


def add_calendar_months(start: dt.date, months: int) -> dt.date:
    """Same day number ``months`` months later, clamped: 2026-08-31 + 6 months is 2027-02-28."""
    year, month_index = divmod(start.month - 1 + months, 12)
    year += start.year
    month = month_index + 1
    last = _gregorian.monthrange(year, month)[1]
    return dt.date(year, month, min(start.day, last))


def bank_holidays(first_year: int, last_year: int) -> dict[dt.date, str]:
    """England-and-Wales bank holidays (substitute and one-off days included) of those years."""
    # holidays.UK(subdiv="ENG") under its ISO code, which the package's type hints know.
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
    return {day: str(name) for day, name in calendar.items()}


def build_calendar(
    first_year: int, last_year: int, extra_closure_dates: Iterable[dt.date] = ()
) -> WorkingDayCalendar:
    """A calendar of bank holidays plus extra closure dates (named :data:`LOCAL_CLOSURE`)."""
    closures = {day: LOCAL_CLOSURE for day in extra_closure_dates}
    closures.update(bank_holidays(first_year, last_year))
    return WorkingDayCalendar(first_year, last_year, closures)


@lru_cache(maxsize=16)
def _cached_calendar(
    first_year: int, last_year: int, extra_closure_dates: tuple[dt.date, ...]
) -> WorkingDayCalendar:
    return build_calendar(first_year, last_year, extra_closure_dates)


def calendar_for(policy: Policy) -> WorkingDayCalendar:
    """The calendar of ``policy``, built once and shared by later calls with the same values."""
    return _cached_calendar(
        policy.calendar_first_year, policy.calendar_last_year, tuple(policy.extra_closure_dates)
    )
