"""Properties of the working-day arithmetic (DESIGN.md §5), checked against the holidays package."""

from __future__ import annotations

import datetime as dt
import random

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.deadlines.calendar import add_calendar_months, calendar_for
from adapter.deadlines.obligations import PRE_PUBLICATION_DOCUMENTS, explain
from adapter.deadlines.plan import load_plan_input, plan_incident
from bench.plan import make_incident
from config.settings import Policy
from tests.rules.factories import load_record, make_child, make_record

CLOSURES = (dt.date(2024, 7, 3), dt.date(2026, 11, 24), dt.date(2027, 12, 29))
POLICY = Policy(extra_closure_dates=CLOSURES)
CALENDAR = calendar_for(POLICY)
BANK_HOLIDAYS = holidays.country_holidays("GB", subdiv="ENG", years=range(2000, 2031))

days = st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2029, 12, 31))
counts = st.integers(min_value=1, max_value=40)


def independent_is_working_day(day: dt.date) -> bool:
    """Working day by the definition, straight from the holidays package and the closures."""
    return day.weekday() < 5 and day not in BANK_HOLIDAYS and day not in CLOSURES


@given(days, counts)
def test_a_due_date_is_always_a_working_day(start: dt.date, n: int) -> None:
    assert independent_is_working_day(CALENDAR.add_working_days(start, n).result)
    assert independent_is_working_day(CALENDAR.subtract_working_days(start, n).result)


@given(days, counts)
def test_the_sum_is_the_nth_working_day_strictly_after(start: dt.date, n: int) -> None:
    result = CALENDAR.add_working_days(start, n).result
    between = [start + dt.timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(independent_is_working_day(day) for day in between) == n


@given(days.filter(independent_is_working_day), counts)
def test_adding_then_subtracting_returns_the_working_day(start: dt.date, n: int) -> None:
    there = CALENDAR.add_working_days(start, n).result
    assert CALENDAR.subtract_working_days(there, n).result == start
    back = CALENDAR.subtract_working_days(start, n).result
    assert CALENDAR.add_working_days(back, n).result == start


@given(days, days, counts)
def test_deadlines_never_move_earlier_when_the_trigger_moves_later(
    a: dt.date, b: dt.date, n: int
) -> None:
    early, late = sorted((a, b))
    assert CALENDAR.add_working_days(early, n).result <= CALENDAR.add_working_days(late, n).result
    assert CALENDAR.subtract_working_days(early, n).result <= (
        CALENDAR.subtract_working_days(late, n).result
    )
    assert add_calendar_months(early, 6) <= add_calendar_months(late, 6)


@given(days, counts)
def test_explanations_mention_every_skipped_holiday(start: dt.date, n: int) -> None:
    reckoned = CALENDAR.add_working_days(start, n)
    text = explain(reckoned, "became aware")
    skipped = [
        start + dt.timedelta(days=i)
        for i in range(1, (reckoned.result - start).days + 1)
        if (start + dt.timedelta(days=i)).weekday() < 5
        and not independent_is_working_day(start + dt.timedelta(days=i))
    ]
    for day in skipped:
        assert day.isoformat() in text
    assert text.count(" 20") - 1 == len(skipped)  # the trigger date, then one per closure


@given(days, st.integers(min_value=1, max_value=24))
def test_calendar_months_keep_the_day_or_clamp_to_the_month_end(start: dt.date, n: int) -> None:
    result = add_calendar_months(start, n)
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == n
    if result.day != start.day:
        assert result.day < start.day
        assert (result + dt.timedelta(days=1)).day == 1


aware_days = st.dates(min_value=dt.date(2021, 1, 1), max_value=dt.date(2028, 12, 31))


@settings(max_examples=40, deadline=None)
@given(aware_days, st.integers(min_value=0, max_value=30))
def test_plan_deadlines_never_move_earlier_when_became_aware_moves_later(
    aware: dt.date, shift: int
) -> None:
    def dues(became_aware_on: dt.date) -> dict[tuple[str, str], dt.date]:
        raw = make_record(
            make_child(looked_after=True, date_of_birth="2015-03-02", date_of_death="2021-01-01"),
            date="2021-01-01",
            became_aware_on=became_aware_on.isoformat(),
        )
        plan = plan_incident(load_record(raw), [], POLICY)
        return {(o.document, o.addressee): o.due for o in plan.obligations}

    before, after = dues(aware), dues(aware + dt.timedelta(days=shift))
    assert before.keys() == after.keys()
    assert all(before[key] <= after[key] for key in before)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_generated_incidents_plan_with_one_obligation_per_document_and_addressee(seed: int) -> None:
    data = make_incident(random.Random(seed), 1)
    record, events = load_plan_input(data)
    plan = plan_incident(record, events, POLICY)
    keys = [(o.document, o.addressee) for o in plan.obligations]
    assert len(keys) == len(set(keys))
    for owed in plan.obligations:
        if owed.document not in ("publication_delay_notice", *PRE_PUBLICATION_DOCUMENTS.values()):
            assert owed.due >= owed.trigger_on
        if owed.document not in (
            "publication",
            "publication_delay_notice",
            "publication_availability",  # a year from publication, whatever the day
        ):
            assert independent_is_working_day(owed.due)


@given(days, st.integers(min_value=-5, max_value=30), st.integers(min_value=0, max_value=5))
def test_pending_from_splits_open_deadlines_exactly_as_their_status(
    today: dt.date, offset: int, soon: int
) -> None:
    """§5: filtering open deadlines by due day (before today, before pending_from, after) gives
    the status deadline_status reports for each, weekends and holidays included."""
    from adapter.clock import LONDON
    from adapter.deadlines.status import deadline_status, pending_from

    due = today + dt.timedelta(days=offset)
    now = dt.datetime.combine(today, dt.time(12), tzinfo=LONDON)
    status = deadline_status(due, now, calendar=CALENDAR, due_soon_working_days=soon)
    boundary = pending_from(today, CALENDAR, soon)
    by_day = "overdue" if due < today else "due_soon" if due < boundary else "pending"
    assert status == by_day
