"""Cell parsers (DESIGN.md §3.1): date forms never guessed, flags, whole numbers, open episodes."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.importers.values import (
    normalise,
    open_on,
    parse_date,
    parse_date_time,
    parse_flag,
    parse_time,
    parse_whole_number,
)

NOV_5 = dt.date(2026, 11, 5)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("05/11/2026", (NOV_5, None)),
        ("5/11/2026", (NOV_5, None)),
        (" 05/11/2026 ", (NOV_5, None)),
        ("2026-11-05", (NOV_5, None)),
        ("2026-11-05 00:00:00.000", (NOV_5, None)),
        ("2026-11-05 14:30:00.000", (NOV_5, "14:30")),
        ("2026-11-05 08:05:59", (NOV_5, "08:05")),
        ("2026-11-05T14:30:00", (NOV_5, "14:30")),
        ("05/11/2026 14:30", (NOV_5, "14:30")),
        ("29/02/2024", (dt.date(2024, 2, 29), None)),
        ("9999-12-31 00:00:00.000", (dt.date(9999, 12, 31), None)),
    ],
)
def test_accepted_date_forms(cell: str, expected: tuple[dt.date, str | None]) -> None:
    assert parse_date_time(cell) == expected
    assert parse_date(cell) == expected[0]


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("31/02/2026", "no day 31 in month 2"),
        ("29/02/2026", "no day 29 in month 2"),
        ("02/13/2026", "no month 13"),
        ("2026-13-01", "no month 13"),
        ("00/01/2026", "no day 0"),
        ("01/00/2026", "no month 0"),
        ("05/11/26", "expected dd/mm/yyyy"),
        ("2026/11/05", "expected dd/mm/yyyy"),
        ("05-11-2026", "expected dd/mm/yyyy"),
        ("next week", "expected dd/mm/yyyy"),
        ("\u0660\u0665/11/2026", "expected dd/mm/yyyy"),
        ("2026-11-05 25:00", "no valid time of day"),
        ("2026-11-05 12:60", "no valid time of day"),
        ("2026-11-05 noon", "no valid time of day"),
    ],
)
def test_impossible_or_unknown_dates_are_errors(cell: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_date_time(cell)


def test_a_swapped_date_says_that_month_and_day_are_never_guessed() -> None:
    with pytest.raises(ValueError, match="never guessed"):
        parse_date("02/13/2026")


@pytest.mark.parametrize(
    ("cell", "expected"), [("14:30", "14:30"), ("7:05:00", "07:05"), ("00:00:00.000", None)]
)
def test_times(cell: str, expected: str | None) -> None:
    assert parse_time(cell) == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Y", True), ("y", True), ("YES", True), ("Yes", True), ("TRUE", True), ("true", True),
        ("1", True), (" Y ", True), ("N", False), ("no", False), ("False", False), ("0", False),
    ],
)  # fmt: skip
def test_flags(cell: str, expected: bool) -> None:
    assert parse_flag(cell) is expected


@pytest.mark.parametrize("cell", ["maybe", "2", "T", "YN", "-1"])
def test_other_flags_are_errors(cell: str) -> None:
    with pytest.raises(ValueError, match="expected Y/N, YES/NO, TRUE/FALSE or 1/0"):
        parse_flag(cell)


def test_whole_numbers() -> None:
    assert parse_whole_number(" 12 ") == 12
    assert parse_whole_number("12.0") == 12
    for cell in ("-1", "1.5", "twelve"):
        with pytest.raises(ValueError, match="not a whole number"):
            parse_whole_number(cell)


def test_normalise_ignores_case_spaces_and_typographic_apostrophes() -> None:
    assert normalise("  Residential   Children\u2019s HOME ") == "residential children's home"


@pytest.mark.parametrize(
    ("start", "end", "is_open"),
    [
        (NOV_5, None, True),  # started on the incident date
        (NOV_5 - dt.timedelta(days=1), NOV_5, False),  # ended on the incident date
        (NOV_5 - dt.timedelta(days=1), NOV_5 + dt.timedelta(days=1), True),
        (NOV_5 + dt.timedelta(days=1), None, False),  # started after it
        (None, None, False),
    ],
)
def test_open_on_the_incident_date(
    start: dt.date | None, end: dt.date | None, is_open: bool
) -> None:
    assert open_on(NOV_5, start, end) is is_open


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_every_accepted_form_parses_back_to_the_same_date(
    date: dt.date, hours: int, minutes: int, seconds: int, millis: int
) -> None:
    forms = [
        f"{date:%d/%m/%Y}",
        f"{date.day}/{date.month}/{date.year}",
        date.isoformat(),
        f"{date.isoformat()} 00:00:00.000",
    ]
    for cell in forms:
        assert parse_date_time(cell) == (date, None)
    warehouse = f"{date.isoformat()} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    expected_time = None if hours == minutes == 0 else f"{hours:02d}:{minutes:02d}"
    assert parse_date_time(warehouse) == (date, expected_time)


@given(dates.filter(lambda date: date.day > 12))
def test_month_first_with_a_day_over_12_never_parses(date: dt.date) -> None:
    with pytest.raises(ValueError, match="never guessed"):
        parse_date(f"{date.month:02d}/{date.day:02d}/{date.year}")


@given(dates.filter(lambda date: date.day <= 12))
def test_ambiguous_dates_are_always_read_day_first(date: dt.date) -> None:
    assert parse_date(f"{date.month:02d}/{date.day:02d}/{date.year}") == dt.date(
        date.year, date.day, date.month
    )


@given(st.text(max_size=30))
def test_any_text_is_a_date_or_a_value_error(cell: str) -> None:
    with contextlib.suppress(ValueError):
        parse_date_time(cell)


@given(
    st.sampled_from(["y", "yes", "true", "1", "n", "no", "false", "0"]),
    st.lists(st.booleans(), min_size=5, max_size=5),
    st.sampled_from(["", " ", "  "]),
)
def test_flags_in_any_case_with_spaces(word: str, upper: list[bool], pad: str) -> None:
    cell = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=False))
    assert parse_flag(pad + cell + pad) is (word in ("y", "yes", "true", "1"))
