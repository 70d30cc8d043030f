"""Deadline status (DESIGN.md §5): due at the end of the due day, Europe/London, BST or GMT."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import get_args
from zoneinfo import ZoneInfo

import pytest

from adapter.deadlines.calendar import calendar_for
from adapter.deadlines.obligations import Obligation
from adapter.deadlines.status import DeadlineStatus, deadline_status, due_instant, london_date
from config.settings import Policy
from schemas import codes

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
POLICY = Policy()
CALENDAR = calendar_for(POLICY)
D = dt.date.fromisoformat


def status(due: str, now: dt.datetime, acknowledged_at: dt.datetime | None = None) -> str:
    return deadline_status(
        D(due),
        now,
        acknowledged_at,
        calendar=CALENDAR,
        due_soon_working_days=POLICY.due_soon_working_days,
    )


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_due_instant_is_end_of_day_london_in_bst_and_gmt() -> None:
    assert due_instant(D("2026-07-15")) == utc("2026-07-15T22:59:59.999999")
    assert due_instant(D("2026-01-15")) == utc("2026-01-15T23:59:59.999999")
    assert due_instant(D("2026-07-15")).tzinfo == LONDON


@pytest.mark.parametrize(
    ("due", "acknowledged", "expected"),
    [
        ("2026-07-15", "2026-07-15T22:30:00", "met"),  # 23:30 BST on the due day
        ("2026-07-15", "2026-07-15T23:30:00", "met_late"),  # 00:30 BST the next day
        ("2026-01-15", "2026-01-15T23:30:00", "met"),  # 23:30 GMT
        ("2026-01-15", "2026-01-16T00:00:00", "met_late"),  # midnight GMT
        ("2026-03-29", "2026-03-29T22:59:59", "met"),  # clocks went forward that day
        ("2026-03-29", "2026-03-29T23:00:00", "met_late"),
        ("2026-10-25", "2026-10-25T23:59:59", "met"),  # clocks went back that day
        ("2026-07-15", "2026-07-01T09:00:00", "met"),  # early
    ],
    ids=[
        "bst_late_evening_utc_met",
        "bst_after_midnight_london_late",
        "gmt_late_evening_met",
        "gmt_midnight_late",
        "spring_forward_day_met",
        "spring_forward_day_late",
        "fall_back_day_met",
        "early_met",
    ],
)
def test_s5_met_means_acknowledged_by_end_of_due_day_london(
    due: str, acknowledged: str, expected: str
) -> None:
    # "now" does not matter once acknowledged, even long after.
    assert status(due, utc("2027-01-01T12:00:00"), utc(acknowledged)) == expected


@pytest.mark.parametrize(
    ("due", "now", "expected"),
    [
        ("2026-12-04", "2026-11-27T09:00:00", "pending"),  # Fri, a week ahead: 5 left
        ("2026-12-04", "2026-12-01T09:00:00", "pending"),  # Tue: 3 left
        ("2026-12-04", "2026-12-02T09:00:00", "due_soon"),  # Wed: Thu and Fri left
        ("2026-12-04", "2026-12-04T16:00:00", "due_soon"),  # the due day itself
        ("2026-12-29", "2026-12-23T09:00:00", "due_soon"),  # 24 and 29 left over Christmas
        ("2026-12-29", "2026-12-22T09:00:00", "pending"),
        ("2026-07-15", "2026-07-15T22:30:00", "due_soon"),  # 23:30 BST, still the due day
        ("2026-07-15", "2026-07-15T23:30:00", "overdue"),  # 00:30 BST, the next day
        ("2026-01-15", "2026-01-15T23:30:00", "due_soon"),
        ("2026-01-15", "2026-01-16T00:00:01", "overdue"),
    ],
    ids=[
        "pending_week_ahead",
        "pending_three_left",
        "due_soon_two_left",
        "due_soon_on_the_day",
        "due_soon_across_christmas",
        "pending_before_christmas",
        "bst_evening_still_due",
        "bst_after_london_midnight_overdue",
        "gmt_evening_still_due",
        "gmt_midnight_overdue",
    ],
)
def test_s5_open_deadline_status(due: str, now: str, expected: str) -> None:
    assert status(due, utc(now)) == expected


def test_due_soon_threshold_comes_from_policy() -> None:
    now = utc("2026-12-01T09:00:00")  # Tuesday; Friday due: 3 working days left
    assert (
        deadline_status(D("2026-12-04"), now, calendar=CALENDAR, due_soon_working_days=3)
        == "due_soon"
    )


def test_statuses_are_the_code_list() -> None:
    assert get_args(DeadlineStatus) == codes.DEADLINE_STATUSES


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        status("2026-12-04", dt.datetime(2026, 12, 1, 9))
    with pytest.raises(ValueError, match="aware"):
        status("2026-12-04", utc("2026-12-01T09:00:00"), dt.datetime(2026, 12, 1, 9))


def test_london_date_of_a_utc_evening_in_summer_is_the_next_day() -> None:
    assert london_date(utc("2026-07-15T23:30:00")) == D("2026-07-16")


PUBLICATION = Obligation(
    document="publication",
    addressee="public",
    due=D("2027-06-18"),
    kind="statutory",
    explanation="6 months from 2026-12-18 (local review decided)",
    trigger="lcspr_decided",
    trigger_on=D("2026-12-18"),
)


def test_obligation_status_uses_the_acknowledgement_the_service_attaches() -> None:
    now = utc("2027-07-01T09:00:00")
    open_one = PUBLICATION
    assert open_one.status(now, POLICY) == "overdue"
    assert open_one.acknowledged(utc("2027-06-18T21:00:00")).status(now, POLICY) == "met"
    assert open_one.acknowledged(utc("2027-06-18T23:00:00")).status(now, POLICY) == "met_late"


@pytest.mark.parametrize(
    ("satisfied_on", "expected"), [("2027-06-18", "met"), ("2027-06-19", "met_late")]
)
def test_obligation_satisfied_by_an_event_date(satisfied_on: str, expected: str) -> None:
    obligation = replace(PUBLICATION, satisfied_on=D(satisfied_on))
    assert obligation.status(utc("2027-07-01T09:00:00"), POLICY) == expected
