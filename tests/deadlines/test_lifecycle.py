"""Event ordering (adapter/deadlines/lifecycle.py): impossible events are refused with a reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.deadlines.plan import Plan, plan_incident
from adapter.errors import EventRefused
from config.settings import Policy
from tests.rules.factories import load_events, load_record, make_child, make_event, make_record

REVIEWER = {"reviewer": "J. Reviewer"}
RAPID = make_event("rapid_review_completed", "2026-12-10")
LOCAL = make_event("lcspr_decided", "2026-12-18", decision="local_review", **REVIEWER)
NO_REVIEW = make_event("lcspr_decided", "2026-12-18", decision="no_review")
NATIONAL = make_event("lcspr_decided", "2027-01-20", decision="national_review_recommended")
SCHEDULED = make_event(
    "publication_scheduled", "2027-04-01", publication_date="2027-06-03", mode="full_report"
)
PUBLISHED = make_event("published", "2027-06-03", url="https://example.org/report")
HISTORICAL = {"historical_harm": True, "date": "2010-05-01"}


def young_adult_record() -> dict[str, Any]:
    return make_record(
        make_child(date_of_birth="2000-01-01", outcome="seriously_harmed"), **HISTORICAL
    )


def run(raw: dict[str, Any], *events: dict[str, Any]) -> Plan:
    return plan_incident(load_record(raw), load_events(*events), Policy())


REFUSED = {
    "event_before_the_incident_date": (
        make_record(),
        [make_event("rapid_review_completed", "2026-11-19")],
        "before the incident date 2026-11-20",
    ),
    "event_before_became_aware": (
        make_record(),
        [make_event("rapid_review_completed", "2026-11-21")],
        "before the local authority became aware",
    ),
    "s2_panel_consulted_on_a_case_without_historical_harm": (
        make_record(),
        [make_event("panel_consulted", "2026-12-01", outcome="notify")],
        "historical harm (§2)",
    ),
    "s2_panel_consulted_twice": (
        young_adult_record(),
        [
            make_event("panel_consulted", "2026-12-01", outcome="do_not_notify"),
            make_event("panel_consulted", "2026-12-08", outcome="notify"),
        ],
        "already consulted on 2026-12-01",
    ),
    "s2_review_events_while_consultation_pending": (
        young_adult_record(),
        [RAPID],
        "must be consulted",
    ),
    "s2_review_events_after_do_not_notify": (
        young_adult_record(),
        [make_event("panel_consulted", "2026-12-01", outcome="do_not_notify"), RAPID],
        "only an incident notified as a serious incident",
    ),
    "s2_review_events_before_the_consultation": (
        young_adult_record(),
        [
            make_event("rapid_review_completed", "2026-11-30"),
            make_event("panel_consulted", "2026-12-01", outcome="notify"),
        ],
        "before the Panel was consulted (2026-12-01",
    ),
    "s2_rapid_review_on_a_looked_after_death_without_abuse": (
        make_record(make_child(looked_after=True), abuse_or_neglect="not_known_or_suspected"),
        [RAPID],
        "only an incident notified as a serious incident",
    ),
    "s3_rapid_review_completed_twice": (
        make_record(),
        [RAPID, make_event("rapid_review_completed", "2026-12-11")],
        "already completed on 2026-12-10",
    ),
    "s3_panel_response_before_any_rapid_review": (
        make_record(),
        [make_event("panel_response_received", "2026-12-01")],
        "none has been completed",
    ),
    "s3_panel_response_received_twice": (
        make_record(),
        [
            RAPID,
            make_event("panel_response_received", "2026-12-20"),
            make_event("panel_response_received", "2026-12-21"),
        ],
        "already received on 2026-12-20",
    ),
    "s3_decision_before_the_rapid_review": (
        make_record(),
        [LOCAL],
        "the decision follows the rapid review",
    ),
    "s8_no_review_after_a_local_review_was_decided": (
        make_record(),
        [RAPID, LOCAL, make_event("lcspr_decided", "2027-01-05", decision="no_review")],
        "conflicts with the decision 'local_review' of 2026-12-18",
    ),
    "s5_no_review_after_a_national_recommendation": (
        make_record(),
        [
            RAPID,
            make_event("lcspr_decided", "2026-12-18", decision="national_review_recommended"),
            make_event("lcspr_decided", "2027-01-05", decision="no_review"),
        ],
        "conflicts with the decision 'national_review_recommended' of 2026-12-18",
    ),
    "s3_same_no_review_twice": (
        make_record(),
        [RAPID, NO_REVIEW, make_event("lcspr_decided", "2027-01-05", decision="no_review")],
        "'no_review' was already decided on 2026-12-18",
    ),
    "s3_same_decision_twice": (
        make_record(),
        [
            RAPID,
            LOCAL,
            make_event("lcspr_decided", "2027-01-05", decision="local_review", **REVIEWER),
        ],
        "'local_review' was already decided on 2026-12-18",
    ),
    "s8_publication_scheduled_before_any_decision": (
        make_record(),
        [RAPID, SCHEDULED],
        "no 'local_review' has been decided",
    ),
    "s8_publication_scheduled_after_no_review": (
        make_record(),
        [RAPID, NO_REVIEW, SCHEDULED],
        "no 'local_review' has been decided",
    ),
    "s8_published_before_publication_scheduled": (
        make_record(),
        [RAPID, LOCAL, PUBLISHED],
        "no publication_scheduled before it",
    ),
    "s8_publication_date_before_it_was_set": (
        make_record(),
        [
            RAPID,
            LOCAL,
            make_event(
                "publication_scheduled",
                "2027-04-01",
                publication_date="2027-03-01",
                mode="full_report",
            ),
        ],
        "before the day it was set",
    ),
    "s8_publication_event_after_publication": (
        make_record(),
        [
            RAPID,
            LOCAL,
            SCHEDULED,
            PUBLISHED,
            make_event("publication_delayed", "2027-06-10", reason="late"),
        ],
        "already published on 2027-06-03",
    ),
}


@pytest.mark.parametrize(("raw", "events", "reason"), list(REFUSED.values()), ids=list(REFUSED))
def test_impossible_events_are_refused(
    raw: dict[str, Any], events: list[dict[str, Any]], reason: str
) -> None:
    with pytest.raises(EventRefused) as caught:
        run(raw, *events)
    assert reason in str(caught.value)
    assert str(caught.value).startswith("events.")


def test_refusal_names_the_event_by_its_given_index() -> None:
    with pytest.raises(EventRefused, match=r"^events\.1 \(published on 2027-06-03\) refused"):
        run(make_record(), RAPID, PUBLISHED, LOCAL)


ALLOWED = {
    "events_given_out_of_order_are_replayed_by_date": [PUBLISHED, SCHEDULED, LOCAL, RAPID],
    "s3_local_review_later_recommended_for_national_review": [RAPID, LOCAL, NATIONAL],
    "s4_panel_concludes_a_local_review_after_a_national_recommendation": [
        RAPID,
        make_event("lcspr_decided", "2026-12-18", decision="national_review_recommended"),
        make_event("lcspr_decided", "2027-01-20", decision="local_review", **REVIEWER),
    ],
    "s4_panel_concludes_a_local_review_after_no_review": [
        RAPID,
        NO_REVIEW,
        make_event("lcspr_decided", "2027-01-05", decision="local_review", **REVIEWER),
    ],
    "s3_new_information_after_no_review_suggests_a_national_review": [RAPID, NO_REVIEW, NATIONAL],
    "s3_s4_no_review_then_local_then_national": [
        RAPID,
        NO_REVIEW,
        make_event("lcspr_decided", "2027-01-05", decision="local_review", **REVIEWER),
        NATIONAL,
    ],
    "s8_reschedule_then_publish": [
        RAPID,
        LOCAL,
        make_event(
            "publication_scheduled", "2027-03-01", publication_date="2027-05-03", mode="full_report"
        ),
        SCHEDULED,
        PUBLISHED,
    ],
    "same_day_events_taken_in_lifecycle_order": [
        make_event("lcspr_decided", "2026-12-18", decision="local_review", **REVIEWER),
        make_event("rapid_review_completed", "2026-12-18"),
    ],
}


@pytest.mark.parametrize("events", list(ALLOWED.values()), ids=list(ALLOWED))
def test_sound_sequences_are_accepted(events: list[dict[str, Any]]) -> None:
    assert run(make_record(), *events).notifiable


def test_national_recommendation_after_local_review_keeps_the_publication_clock() -> None:
    plan = run(make_record(), RAPID, LOCAL, NATIONAL)
    assert [o.due for o in plan.obligations if o.document == "publication"] == [
        dt.date(2027, 6, 18)
    ]
    decided = {
        o.addressee: o.trigger_on for o in plan.obligations if o.document == "lcspr_decision"
    }
    # §3: the Panel hears of the later national recommendation; Ofsted and DfE of the local review.
    assert decided == {
        "panel": dt.date(2027, 1, 20),
        "ofsted": dt.date(2026, 12, 18),
        "dfe": dt.date(2026, 12, 18),
    }


def test_historical_harm_under_18_consultation_changes_nothing_but_warns() -> None:
    raw = make_record(
        make_child(date_of_birth="2012-01-01", outcome="seriously_harmed"), **HISTORICAL
    )
    plan = run(raw, make_event("panel_consulted", "2026-12-01", outcome="do_not_notify"))
    assert plan.to_json_dict()["classification"] == ["serious_incident"]
    assert any("ordinary rows apply" in warning for warning in plan.warnings)


def test_s4_local_review_after_no_review_tells_all_it_concerns_and_starts_the_clock() -> None:
    """§4: the partners reconsider (the Panel "concluded a local review may be more
    appropriate"): the Panel, Ofsted and the DfE are owed the new decision (§3, §4) and the
    6-month publication clock runs from it (§8)."""
    local = make_event("lcspr_decided", "2027-01-05", decision="local_review", **REVIEWER)
    plan = run(make_record(), RAPID, NO_REVIEW, local)
    decided = {
        o.addressee: (o.trigger_on, o.explanation)
        for o in plan.obligations
        if o.document == "lcspr_decision"
    }
    assert {addressee: on for addressee, (on, _) in decided.items()} == {
        "panel": dt.date(2027, 1, 5),
        "ofsted": dt.date(2027, 1, 5),
        "dfe": dt.date(2027, 1, 5),
    }
    assert "(local review decided)" in decided["panel"][1]
    assert [o.due for o in plan.obligations if o.document == "publication"] == [dt.date(2027, 7, 5)]
