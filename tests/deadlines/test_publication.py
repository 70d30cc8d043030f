"""§8 publication obligations that depend on when the report was actually published: the
pre-publication copies ("no later than 7 working days before the date of publication") and the
delay notice ("inform the Panel and the Secretary of State of the reasons for the delay")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.deadlines.obligations import Obligation
from adapter.deadlines.plan import Plan, plan_incident
from config.settings import Policy
from tests.rules.factories import load_events, load_record, make_event, make_record

D = dt.date.fromisoformat
REVIEWED = (
    make_event("rapid_review_completed", "2026-12-10"),
    make_event("lcspr_decided", "2026-12-18", decision="local_review", reviewer="J. Reviewer"),
)  # the 6-month limit is 2027-06-18
SCHEDULED = make_event(
    "publication_scheduled", "2027-04-01", publication_date="2027-06-03", mode="full_report"
)


def published(on: str) -> dict[str, Any]:
    return make_event("published", on, url="https://example.org/report")


def planned(*events: dict[str, Any]) -> Plan:
    return plan_incident(load_record(make_record()), load_events(*REVIEWED, *events), Policy())


def of(plan: Plan, document: str) -> list[Obligation]:
    return [o for o in plan.obligations if o.document == document]


# name: (published on, copies due, trigger, explanation)
COPIES = {
    "s8_published_earlier_than_scheduled_counts_from_the_publication": (
        "2027-05-20",
        "2027-05-11",
        "published",
        "7 working days before 2027-05-20 (published, before the date scheduled 2027-06-03)",
    ),
    "s8_published_on_the_date_scheduled": (
        "2027-06-03",
        "2027-05-24",
        "publication_scheduled",
        "7 working days before 2027-06-03 (publication date), skipping 2027-05-31 Spring Bank "
        "Holiday",
    ),
    "s8_published_later_than_scheduled_keeps_the_schedule": (
        "2027-06-10",
        "2027-05-24",
        "publication_scheduled",
        "7 working days before 2027-06-03 (publication date), skipping 2027-05-31 Spring Bank "
        "Holiday",
    ),
}


@pytest.mark.parametrize(
    ("published_on", "due", "trigger", "explanation"), list(COPIES.values()), ids=list(COPIES)
)
def test_copies_are_due_7_working_days_before_the_date_of_publication(
    published_on: str, due: str, trigger: str, explanation: str
) -> None:
    copies = of(planned(SCHEDULED, published(published_on)), "final_report")
    assert {o.addressee for o in copies} == {"panel", "secretary_of_state", "ofsted"}
    assert {(o.due, o.trigger, o.explanation) for o in copies} == {(D(due), trigger, explanation)}


def test_s8_published_after_the_limit_owes_the_delay_notice() -> None:
    notices = of(planned(SCHEDULED, published("2027-06-25")), "publication_delay_notice")
    assert {(o.addressee, o.due, o.trigger) for o in notices} == {
        ("panel", D("2027-06-18"), "published"),
        ("secretary_of_state", D("2027-06-18"), "published"),
    }
    assert "published after it, on 2027-06-25" in notices[0].explanation
    assert "once a publication_delayed event records them" in notices[0].explanation


def test_s8_the_reasons_may_still_be_recorded_after_a_late_publication() -> None:
    """§8: the reasons for the delay are owed after a late publication too; the
    publication_delayed event is what records them (and what the notice sends)."""
    plan = planned(
        SCHEDULED,
        published("2027-06-25"),
        make_event("publication_delayed", "2027-06-28", reason="inquest not concluded"),
    )
    (notice, *_) = of(plan, "publication_delay_notice")
    assert notice.trigger == "published"
    assert "publication delayed on 2027-06-28" in notice.explanation
    assert "once a publication_delayed event records them" not in notice.explanation


def test_s8_published_within_the_limit_owes_no_delay_notice() -> None:
    assert of(planned(SCHEDULED, published("2027-06-18")), "publication_delay_notice") == []


# §8: the limit passing with nothing published owes the notice too, from the day after it.
LIMIT_PASSED = {
    "s8_the_day_after_the_limit_unpublished_owes_the_notice": ((), "2027-06-19", True),
    "s8_on_the_limit_itself_it_may_still_be_published": ((), "2027-06-18", False),
    "s8_scheduled_inside_the_limit_but_not_yet_published": ((SCHEDULED,), "2027-06-21", True),
    "s8_published_on_time_owes_nothing_later": (
        (SCHEDULED, published("2027-06-03")),
        "2027-09-01",
        False,
    ),
}


@pytest.mark.parametrize(
    ("events", "today", "owed"), list(LIMIT_PASSED.values()), ids=list(LIMIT_PASSED)
)
def test_s8_the_limit_passing_unpublished_owes_the_delay_notice(
    events: tuple[dict[str, Any], ...], today: str, owed: bool
) -> None:
    plan = plan_incident(
        load_record(make_record()), load_events(*REVIEWED, *events), Policy(), today=D(today)
    )
    notices = of(plan, "publication_delay_notice")
    if not owed:
        assert notices == []
        return
    assert {(o.addressee, o.due, o.trigger, o.trigger_on) for o in notices} == {
        ("panel", D("2027-06-18"), "lcspr_decided", D("2026-12-18")),
        ("secretary_of_state", D("2027-06-18"), "lcspr_decided", D("2026-12-18")),
    }
    assert all("the limit passed on 2027-06-18 unpublished" in o.explanation for o in notices)
