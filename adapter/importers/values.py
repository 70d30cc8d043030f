"""Cell values of case-system exports: dates, times, flags, sentinels and coded values (§3.1).

Every parser takes a non-empty cell (surrounding spaces allowed) and returns the typed value or
raises :class:`ValueError` whose message says what was expected. Dates are read day first and
never guessed: ``02/13/2026`` is an error, not 13 February. The parsers slice and call ``int``
instead of ``strptime`` or a regex because they run for many cells of a 100 000-row export (the
layout also remembers each column's parsed cells, since exports repeat dates and codes).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import TypeVar

DATE_FORMS = "dd/mm/yyyy, yyyy-mm-dd or yyyy-mm-dd hh:mm:ss.fff"
"""The accepted date forms, as error messages name them."""

_FLAGS = {
    "Y": True,
    "YES": True,
    "TRUE": True,
    "1": True,
    "N": False,
    "NO": False,
    "FALSE": False,
    "0": False,
}
_MIDNIGHT = frozenset({" 00:00:00.000", " 00:00:00", " 00:00", "T00:00:00", "T00:00:00.000"})
"""Time parts that mean "no time recorded" (warehouse dates carry midnight)."""

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?")

T = TypeVar("T")


def normalise(value: str) -> str:
    """How coded values and headers are compared: case, surrounding and repeated spaces ignored.

    Typographic apostrophes (Windows-1252 exports often carry one in "children's") count as ``'``.
    """
    return " ".join(value.replace("\u2019", "'").split()).casefold()


def parse_date(value: str) -> dt.date:
    """A date in any of :data:`DATE_FORMS`; a time part, if any, is ignored."""
    return parse_date_time(value)[0]


def parse_date_time(value: str) -> tuple[dt.date, str | None]:
    """A date and its time of day as ``HH:MM`` (``None`` when absent or exactly midnight).

    Warehouse exports write every date as ``yyyy-mm-dd 00:00:00.000``; midnight there means
    "no time recorded", so it gives no time.
    """
    text = value.strip()
    if not text.isascii():
        raise _not_a_date(text)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":  # ISO and warehouse forms
        date = _date(text[0:4], text[5:7], text[8:10], text)
        rest = text[10:]
        if not rest or rest in _MIDNIGHT:
            return date, None
        if rest[0] not in " T":
            raise _not_a_date(text)
        return date, parse_time(rest[1:], text)
    date_part, _, time_part = text.partition(" ")
    parts = date_part.split("/")
    if len(parts) != 3 or len(parts[2]) != 4 or len(parts[0]) > 2 or len(parts[1]) > 2:
        raise _not_a_date(text)  # day and month of one or two digits, a four-digit year
    date = _date(parts[2], parts[1], parts[0], text)
    return date, (parse_time(time_part, text) if time_part.strip() else None)


def _date(year: str, month: str, day: str, text: str) -> dt.date:
    if not (year.isdigit() and month.isdigit() and day.isdigit()):
        raise _not_a_date(text)
    if not 1 <= int(month) <= 12:
        raise ValueError(
            f"'{text}' is not a date: there is no month {int(month)} "
            "(dates are read day first, dd/mm/yyyy; month/day order is never guessed)"
        )
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(
            f"'{text}' is not a real date: there is no day {int(day)} in month {int(month)} "
            f"of year {int(year)}"
        ) from None


def _not_a_date(value: str) -> ValueError:
    return ValueError(f"'{value}' is not a date: expected {DATE_FORMS}")


def parse_time(value: str, whole: str | None = None) -> str | None:
    """``hh:mm``, ``hh:mm:ss`` or ``hh:mm:ss.fff`` as ``HH:MM``; midnight gives ``None``."""
    match = _TIME.fullmatch(value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise ValueError(
            f"'{whole or value.strip()}' has no valid time of day: expected hh:mm[:ss]"
        )
    if match[1] in ("00", "0") and match[2] == "00":
        return None
    return f"{int(match[1]):02d}:{match[2]}"


def parse_flag(value: str) -> bool:
    """Y/N, YES/NO, TRUE/FALSE or 1/0, in any case."""
    flag = _FLAGS.get(value)
    if flag is None:
        flag = _FLAGS.get(value.strip().upper())
        if flag is None:
            raise ValueError(
                f"'{value.strip()}' is not a flag: expected Y/N, YES/NO, TRUE/FALSE or 1/0"
            )
    return flag


def parse_whole_number(value: str) -> int:
    """A whole number such as an age in years; ``12.0`` (a spreadsheet's number) is 12."""
    text = value.strip()
    text = text[:-2] if text.endswith(".0") else text
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"'{value}' is not a whole number")
    return int(text)


def lookup(table: Mapping[str, T], value: str) -> T | None:
    """``table[value]`` matched exactly, else without regard to case or spaces (keys normalised)."""
    found = table.get(value)
    if found is None:
        found = table.get(normalise(value))
    return found


def compile_map(pairs: Iterable[tuple[str, T]]) -> dict[str, T]:
    """A lookup table for :func:`lookup`: each key as written and normalised."""
    table: dict[str, T] = {}
    for key, target in pairs:
        table[key] = target
        table[normalise(key)] = target
    return table


def open_on(date: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    """Whether a plan or care episode was open on ``date``: started on or before it, and not
    ended (end blank or after it), DESIGN.md §3.1. An episode ending on the day is closed."""
    return start is not None and start <= date and (end is None or end > date)
