"""The working-day calendar of DESIGN.md §5 across bank holidays, month ends and its known range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from adapter.deadlines.calendar import (
    LOCAL_CLOSURE,
    add_calendar_months,
    build_calendar,
    calendar_for,
)
from adapter.deadlines.obligations import explain
from adapter.errors import CalendarRangeError
from config.settings import Policy

D = dt.date.fromisoformat
CALENDAR = calendar_for(Policy())

AFTER = {
    # §2 "within five working days", across Christmas and New Year substitute days.
    "s2_christmas_2021_both_days_on_a_weekend": (
        "2021-12-24",
        5,
        "2022-01-05",
        [
            "2021-12-27 Christmas Day (observed)",
            "2021-12-28 Boxing Day (observed)",
            "2022-01-03 New Year's Day (observed)",
        ],
    ),
    "s2_christmas_2022_on_a_sunday": (
        "2022-12-23",
        5,
        "2023-01-04",
        [
            "2022-12-26 Boxing Day",
            "2022-12-27 Christmas Day (observed)",
            "2023-01-02 New Year's Day (observed)",
        ],
    ),
    "s5_design_example_2026": (
        "2026-12-21",
        5,
        "2026-12-30",
        ["2026-12-25 Christmas Day", "2026-12-28 Boxing Day (observed)"],
    ),
    "s2_christmas_2027_on_a_saturday": (
        "2027-12-24",
        5,
        "2028-01-05",
        [
            "2027-12-27 Christmas Day (observed)",
            "2027-12-28 Boxing Day (observed)",
            "2028-01-03 New Year's Day (observed)",
        ],
    ),
    "s2_easter_good_friday_and_easter_monday": (
        "2026-04-02",
        1,
        "2026-04-07",
        ["2026-04-03 Good Friday", "2026-04-06 Easter Monday"],
    ),
    "s2_state_funeral_2022": (
        "2022-09-16",
        1,
        "2022-09-20",
        ["2022-09-19 State Funeral of Queen Elizabeth II"],
    ),
    "s2_coronation_2023_and_may_day": (
        "2023-04-28",
        5,
        "2023-05-09",
        ["2023-05-01 May Day", "2023-05-08 Coronation of Charles III"],
    ),
    "s5_trigger_on_a_saturday_counts_from_monday": ("2026-11-21", 5, "2026-11-27", []),
    "s5_trigger_on_a_bank_holiday": (
        "2026-12-25",
        1,
        "2026-12-29",
        ["2026-12-28 Boxing Day (observed)"],
    ),
    "s3_rapid_review_15_working_days": ("2026-11-23", 15, "2026-12-14", []),
    "s3_rapid_review_15_working_days_over_christmas": (
        "2026-12-10",
        15,
        "2027-01-05",
        [
            "2026-12-25 Christmas Day",
            "2026-12-28 Boxing Day (observed)",
            "2027-01-01 New Year's Day",
        ],
    ),
}


@pytest.mark.parametrize(("start", "days", "due", "skipped"), list(AFTER.values()), ids=list(AFTER))
def test_working_days_after(start: str, days: int, due: str, skipped: list[str]) -> None:
    reckoned = CALENDAR.add_working_days(D(start), days)
    assert reckoned.result == D(due)
    assert [str(closure) for closure in reckoned.skipped] == skipped


def test_s5_design_example_explanation_word_for_word() -> None:
    assert explain(CALENDAR.add_working_days(D("2026-12-21"), 5), "became aware") == (
        "5 working days after 2026-12-21 (became aware), skipping 2026-12-25 Christmas Day and "
        "2026-12-28 Boxing Day (observed)"
    )


def test_explanation_lists_three_closures_with_commas_and_and() -> None:
    text = explain(CALENDAR.add_working_days(D("2021-12-24"), 5), "became aware")
    assert text.endswith(
        "skipping 2021-12-27 Christmas Day (observed), 2021-12-28 Boxing Day (observed) and "
        "2022-01-03 New Year's Day (observed)"
    )


BEFORE = {
    "s8_seven_before_publication_across_spring_bank_holiday": (
        "2027-06-03",
        7,
        "2027-05-24",
        ["2027-05-31 Spring Bank Holiday"],
    ),
    "s8_seven_before_publication_across_new_year": (
        "2027-01-05",
        7,
        "2026-12-22",
        [
            "2026-12-25 Christmas Day",
            "2026-12-28 Boxing Day (observed)",
            "2027-01-01 New Year's Day",
        ],
    ),
    "s8_publication_on_a_sunday": ("2027-03-07", 7, "2027-02-25", []),
    "s8_publication_on_easter_monday": (
        "2027-03-29",
        1,
        "2027-03-25",
        ["2027-03-26 Good Friday"],
    ),
}


@pytest.mark.parametrize(
    ("start", "days", "due", "skipped"), list(BEFORE.values()), ids=list(BEFORE)
)
def test_working_days_before(start: str, days: int, due: str, skipped: list[str]) -> None:
    reckoned = CALENDAR.subtract_working_days(D(start), days)
    assert reckoned.result == D(due)
    assert [str(closure) for closure in reckoned.skipped] == skipped
    assert explain(reckoned, "publication date").startswith(
        f"{days} working day{'s' if days > 1 else ''} before {start} (publication date)"
    )


MONTHS = {
    "s8_six_months_same_day": ("2026-12-18", "2027-06-18"),
    "s8_six_months_across_the_year": ("2026-07-15", "2027-01-15"),
    "s8_six_months_clamped_to_february": ("2026-08-31", "2027-02-28"),
    "s8_six_months_clamped_to_leap_day": ("2027-08-31", "2028-02-29"),
    "s8_six_months_from_leap_day": ("2028-02-29", "2028-08-29"),
    "s8_six_months_clamped_to_thirty_days": ("2027-03-31", "2027-09-30"),
}


@pytest.mark.parametrize(("start", "due"), list(MONTHS.values()), ids=list(MONTHS))
def test_six_calendar_months(start: str, due: str) -> None:
    assert CALENDAR.add_months(D(start), 6) == D(due)
    assert add_calendar_months(D(start), 6) == D(due)


def test_extra_closure_dates_from_config_are_skipped_and_named() -> None:
    calendar = calendar_for(Policy(extra_closure_dates=(D("2026-11-24"), D("2026-11-28"))))
    reckoned = calendar.add_working_days(D("2026-11-23"), 1)
    assert reckoned.result == D("2026-11-25")
    assert [str(c) for c in reckoned.skipped] == [f"2026-11-24 {LOCAL_CLOSURE}"]
    assert not calendar.is_working_day(D("2026-11-24"))
    # A closure on a bank holiday keeps the bank holiday's name.
    both = build_calendar(2026, 2026, [D("2026-12-25")])
    assert both.closure_name(D("2026-12-25")) == "Christmas Day"


def test_calendar_is_built_once_per_policy() -> None:
    assert calendar_for(Policy()) is calendar_for(Policy())
    assert calendar_for(Policy(extra_closure_dates=(D("2026-11-24"),))) is not CALENDAR


def test_zero_working_days_is_the_day_itself() -> None:
    assert CALENDAR.add_working_days(D("2026-12-25"), 0).result == D("2026-12-25")
    assert CALENDAR.subtract_working_days(D("2026-12-25"), 0).result == D("2026-12-25")


def test_working_days_between_counts_after_up_to_and_including() -> None:
    assert CALENDAR.working_days_between(D("2026-12-23"), D("2026-12-29")) == 2
    assert CALENDAR.working_days_between(D("2026-12-29"), D("2026-12-29")) == 0


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda: CALENDAR.add_working_days(D("2031-01-02"), 5), "2031-01-02"),
        (lambda: CALENDAR.add_working_days(D("2030-12-27"), 5), "2030-12-27"),
        (lambda: CALENDAR.subtract_working_days(D("2000-01-05"), 7), "2000-01-05"),
        (lambda: CALENDAR.add_months(D("2030-08-01"), 6), "2031-02-01"),
        (lambda: CALENDAR.is_working_day(D("1999-12-31")), "1999-12-31"),
    ],
    ids=[
        "start_after_range",
        "sum_reaches_beyond",
        "sum_reaches_before",
        "months_beyond",
        "day_before",
    ],
)
def test_outside_the_known_years_is_an_error_never_a_guess(
    call: Callable[[], object], named: str
) -> None:
    with pytest.raises(CalendarRangeError) as caught:
        call()
    assert named in str(caught.value)
    assert "2000-2030" in str(caught.value)


def test_negative_working_days_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CALENDAR.add_working_days(D("2026-01-05"), -1)
