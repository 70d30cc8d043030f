"""Every obligation row of DESIGN.md §5, from the record and from lifecycle events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.deadlines.obligations import Obligation
from adapter.deadlines.plan import Plan, plan_incident
from config.settings import Policy
from tests.rules.factories import (
    load_events,
    load_record,
    make_child,
    make_event,
    make_record,
)

D = dt.date.fromisoformat
POLICY = Policy()
REVIEWER = {"reviewer": "J. Reviewer"}


def planned(
    raw: dict[str, Any], *events: dict[str, Any], policy: Policy = POLICY, **kwargs: Any
) -> Plan:
    return plan_incident(load_record(raw), load_events(*events), policy, **kwargs)


def table(plan: Plan) -> set[tuple[str, str, str, str]]:
    return {(o.document, o.addressee, o.due.isoformat(), o.kind) for o in plan.obligations}


def of(plan: Plan, document: str) -> list[Obligation]:
    return [o for o in plan.obligations if o.document == document]


REVIEWED = (
    make_event("rapid_review_completed", "2026-12-10"),
    make_event("lcspr_decided", "2026-12-18", decision="local_review", **REVIEWER),
)


def test_s5_design_example_became_aware_before_christmas() -> None:
    plan = planned(make_record(became_aware_on="2026-12-21"))
    (notification,) = of(plan, "incident_notification")
    assert notification.due == D("2026-12-30")
    assert notification.explanation == (
        "5 working days after 2026-12-21 (became aware), skipping 2026-12-25 Christmas Day and "
        "2026-12-28 Boxing Day (observed)"
    )


def test_s2_s3_serious_incident_notification_and_rapid_review() -> None:
    plan = planned(make_record())
    assert table(plan) == {
        ("incident_notification", "panel", "2026-11-30", "statutory"),
        ("rapid_review", "panel", "2026-12-14", "statutory"),
    }
    assert (
        of(plan, "rapid_review")[0].explanation == "15 working days after 2026-11-23 (became aware)"
    )


def test_s2_looked_after_death_policy_period_to_sos_and_ofsted() -> None:
    raw = make_record(make_child(looked_after=True), abuse_or_neglect="not_known_or_suspected")
    assert table(planned(raw, policy=Policy(death_notification_working_days=3))) == {
        ("looked_after_child_death_notification", "secretary_of_state", "2026-11-26", "policy"),
        ("looked_after_child_death_notification", "ofsted", "2026-11-26", "policy"),
    }


def test_s2_care_leaver_death_policy_period() -> None:
    raw = make_record(
        make_child(date_of_birth="2004-01-01", care_leaver=True),
        abuse_or_neglect="not_known_or_suspected",
    )
    assert table(planned(raw)) == {
        ("care_leaver_death_notification", "secretary_of_state", "2026-11-30", "policy"),
        ("care_leaver_death_notification", "ofsted", "2026-11-30", "policy"),
    }


def test_s2_rows_combine_for_an_abused_looked_after_child() -> None:
    plan = planned(make_record(make_child(looked_after=True)))
    assert {(o.document, o.addressee) for o in plan.obligations} == {
        ("incident_notification", "panel"),
        ("rapid_review", "panel"),
        ("looked_after_child_death_notification", "secretary_of_state"),
        ("looked_after_child_death_notification", "ofsted"),
    }


def test_not_notifiable_owes_nothing() -> None:
    plan = planned(make_record(abuse_or_neglect="not_known_or_suspected"))
    assert plan.obligations == ()
    assert plan.to_json_dict()["classification"] == ["not_notifiable"]


HISTORICAL = {"historical_harm": True, "date": "2010-05-01"}


def young_adult() -> dict[str, Any]:
    return make_child(date_of_birth="2000-01-01", outcome="seriously_harmed")


def test_s2_young_adult_blocked_owes_nothing_until_consulted() -> None:
    plan = planned(make_record(young_adult(), **HISTORICAL))
    assert plan.obligations == ()
    assert plan.to_json_dict()["blocked_reason"] == "panel_consultation_required"


def test_s2_s3_panel_says_notify_clocks_start_on_consultation() -> None:
    plan = planned(
        make_record(young_adult(), **HISTORICAL),
        make_event("panel_consulted", "2026-12-21", outcome="notify"),
    )
    assert table(plan) == {
        ("incident_notification", "panel", "2026-12-30", "statutory"),
        ("rapid_review", "panel", "2027-01-14", "statutory"),
    }
    assert of(plan, "incident_notification")[0].explanation.startswith(
        "5 working days after 2026-12-21 (Panel consulted)"
    )
    assert {o.trigger for o in plan.obligations} == {"panel_consulted"}


def test_s2_panel_says_do_not_notify_owes_nothing() -> None:
    plan = planned(
        make_record(young_adult(), **HISTORICAL),
        make_event("panel_consulted", "2026-12-21", outcome="do_not_notify"),
    )
    assert plan.obligations == ()
    assert (plan.notifiable, plan.to_json_dict()["blocked_reason"]) == (False, None)


def test_s3_panel_response_expected_15_days_after_the_rapid_review() -> None:
    plan = planned(make_record(), REVIEWED[0])
    (response,) = of(plan, "panel_response")
    assert (response.addressee, response.due, response.kind) == (
        "panel",
        D("2027-01-05"),
        "expectation",
    )
    assert "delivery date not known, taken as the completion date" in response.explanation
    assert response.trigger == "rapid_review_completed"


def test_s3_panel_response_counts_from_a_known_delivery() -> None:
    plan = planned(make_record(), REVIEWED[0], rapid_review_delivered_on=D("2026-12-11"))
    (response,) = of(plan, "panel_response")
    assert response.due == D("2027-01-06")
    assert "(rapid review delivered)" in response.explanation


def test_s3_panel_response_received_satisfies_the_expectation() -> None:
    plan = planned(make_record(), REVIEWED[0], make_event("panel_response_received", "2026-12-30"))
    assert of(plan, "panel_response")[0].satisfied_on == D("2026-12-30")


@pytest.mark.parametrize(
    ("decision", "addressees"),
    [
        ("local_review", {"panel", "ofsted", "dfe"}),
        ("no_review", {"panel"}),
        ("national_review_recommended", {"panel"}),
    ],
    ids=[
        "s3_s4_local_review_to_panel_ofsted_dfe",
        "s3_no_review_shared_with_panel",
        "s3_national_review_recommended_to_panel",
    ],
)
def test_lcspr_decision_addressees(decision: str, addressees: set[str]) -> None:
    plan = planned(
        make_record(),
        REVIEWED[0],
        make_event("lcspr_decided", "2026-12-18", decision=decision, **REVIEWER),
    )
    decided = of(plan, "lcspr_decision")
    assert {o.addressee for o in decided} == addressees
    assert {(o.due, o.kind) for o in decided} == {(D("2026-12-29"), "policy")}
    has_publication = bool(of(plan, "publication"))
    assert has_publication is (decision == "local_review")


def test_lcspr_decision_period_comes_from_policy() -> None:
    plan = planned(make_record(), *REVIEWED, policy=Policy(review_decision_working_days=2))
    assert {o.due for o in of(plan, "lcspr_decision")} == {D("2026-12-22")}


def test_s8_publication_six_months_from_the_decision_satisfied_when_published() -> None:
    plan = planned(
        make_record(),
        *REVIEWED,
        make_event(
            "publication_scheduled", "2027-04-01", publication_date="2027-06-03", mode="full_report"
        ),
        make_event("published", "2027-06-03", url="https://example.org/report"),
    )
    (publication,) = of(plan, "publication")
    assert (publication.addressee, publication.due, publication.satisfied_on) == (
        "public",
        D("2027-06-18"),
        D("2027-06-03"),
    )
    assert publication.explanation == "6 months from 2026-12-18 (local review decided)"
    assert of(plan, "publication_delay_notice") == []


@pytest.mark.parametrize(
    ("mode", "document"),
    [("full_report", "final_report"), ("improvements_only", "improvements_information")],
    ids=["s8_full_report", "s8_improvements_only"],
)
def test_s8_copies_seven_working_days_before_publication(mode: str, document: str) -> None:
    plan = planned(
        make_record(),
        *REVIEWED,
        make_event("publication_scheduled", "2027-04-01", publication_date="2027-06-03", mode=mode),
    )
    copies = of(plan, document)
    assert {o.addressee for o in copies} == {"panel", "secretary_of_state", "ofsted"}
    assert {(o.due, o.kind) for o in copies} == {(D("2027-05-24"), "statutory")}
    assert copies[0].explanation == (
        "7 working days before 2027-06-03 (publication date), skipping 2027-05-31 Spring Bank "
        "Holiday"
    )


def test_s8_rescheduling_moves_the_copies_to_the_latest_date() -> None:
    plan = planned(
        make_record(),
        *REVIEWED,
        make_event(
            "publication_scheduled", "2027-03-01", publication_date="2027-05-03", mode="full_report"
        ),
        make_event(
            "publication_scheduled",
            "2027-04-01",
            publication_date="2027-06-03",
            mode="improvements_only",
        ),
    )
    assert of(plan, "final_report") == []
    assert {o.due for o in of(plan, "improvements_information")} == {D("2027-05-24")}


def test_s8_delay_notice_when_publication_falls_after_the_limit() -> None:
    plan = planned(
        make_record(),
        *REVIEWED,
        make_event(
            "publication_scheduled", "2027-04-01", publication_date="2027-09-01", mode="full_report"
        ),
    )
    notices = of(plan, "publication_delay_notice")
    assert {o.addressee for o in notices} == {"panel", "secretary_of_state"}
    assert {o.due for o in notices} == {D("2027-06-18")}
    assert "publication scheduled for 2027-09-01 falls after it" in notices[0].explanation
    assert "once a publication_delayed event records them" in notices[0].explanation


def test_s8_delay_notice_when_a_delay_is_recorded() -> None:
    plan = planned(
        make_record(),
        *REVIEWED,
        make_event("publication_delayed", "2027-05-01", reason="criminal trial"),
    )
    notices = of(plan, "publication_delay_notice")
    assert {(o.addressee, o.due, o.trigger) for o in notices} == {
        ("panel", D("2027-06-18"), "publication_delayed"),
        ("secretary_of_state", D("2027-06-18"), "publication_delayed"),
    }


def test_s8_six_month_limit_clamped_at_month_end() -> None:
    plan = planned(
        make_record(
            make_child(date_of_death="2026-08-03"), date="2026-08-03", became_aware_on="2026-08-04"
        ),
        make_event("rapid_review_completed", "2026-08-20"),
        make_event("lcspr_decided", "2026-08-31", decision="local_review", **REVIEWER),
    )
    (publication,) = of(plan, "publication")
    assert publication.due == D("2027-02-28")
    assert "clamped to the month's last day 2027-02-28" in publication.explanation


def test_obligations_are_in_due_order_and_json_shaped() -> None:
    plan = planned(make_record(make_child(looked_after=True)), *REVIEWED)
    dues = [o.due for o in plan.obligations]
    assert dues == sorted(dues)
    body = plan.to_json_dict()
    assert list(body) == [
        "notifiable",
        "blocked_reason",
        "classification",
        "rapid_review_required",
        "obligations",
        "warnings",
    ]
    first = body["obligations"][0]
    assert {"document", "addressee", "due", "kind", "explanation"} <= set(first)
    assert isinstance(first["due"], str)


def test_a_future_date_of_death_is_a_warning_in_plan_not_an_error() -> None:
    """What submission refuses as in the future, plan answers as a what-if, with a warning."""
    record = make_record()
    record["children"][0]["date_of_death"] = D("2026-11-25")
    plan = planned(record, today=D("2026-11-24"))
    assert any(
        w.startswith("children.0.date_of_death: 2026-11-25 is in the future") for w in plan.warnings
    )


def test_future_became_aware_is_a_warning_when_today_is_given() -> None:
    plan = planned(make_record(), today=D("2026-11-22"))
    assert plan.warnings[0].startswith("incident.became_aware_on: 2026-11-23 is in the future")
    assert planned(make_record(), today=D("2026-11-23")).warnings == ()
