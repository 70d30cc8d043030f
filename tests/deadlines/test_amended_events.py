"""Events recorded before an amendment stay recorded (DESIGN.md §4: "Facts that emerge later are
amendments"; guidance §2): the plan keeps them, warns about what the amended record contradicts,
and an incident notified as a serious incident whose rapid review is recorded stays one (§2: only
incidents notified as serious incidents follow the review process, §3). New events are still
checked against the record as it stands.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapter.deadlines.plan import Plan, plan_incident
from adapter.errors import EventRefused
from config.settings import Policy
from tests.rules.factories import load_events, load_record, make_child, make_event, make_record

REVIEWER = {"reviewer": "J. Reviewer"}
RAPID = make_event("rapid_review_completed", "2026-12-10")
LOCAL = make_event("lcspr_decided", "2026-12-18", decision="local_review", **REVIEWER)
HISTORICAL = {"historical_harm": True, "date": "2010-05-01"}


def run(raw: dict[str, Any], events: list[dict[str, Any]], recorded: int) -> Plan:
    return plan_incident(load_record(raw), load_events(*events), Policy(), recorded=recorded)


def documents(plan: Plan) -> set[str]:
    return {o.document for o in plan.obligations}


# name: (the record as amended, the events recorded before, classification, owed, warning)
AMENDED: dict[str, tuple[dict[str, Any], list[dict[str, Any]], list[str], set[str], str]] = {
    "s2_abuse_ruled_out_after_the_rapid_review": (
        make_record(abuse_or_neglect="not_known_or_suspected"),
        [RAPID],
        ["serious_incident"],
        {"incident_notification", "rapid_review", "panel_response"},
        "would not now be notified to the Panel",
    ),
    "s1_child_found_to_be_18_after_a_local_review_was_decided": (
        make_record(make_child(date_of_birth="2008-01-01")),
        [RAPID, LOCAL],
        ["serious_incident"],
        {
            "incident_notification",
            "rapid_review",
            "panel_response",
            "lcspr_decision",
            "decision_rationale_to_family",  # §4
            "publication",
        },
        "stays a serious incident and follows the review process",
    ),
    "incident_date_amended_after_a_recorded_rapid_review": (
        make_record(
            make_child(date_of_death="2026-12-15"), date="2026-12-15", became_aware_on="2026-12-15"
        ),
        [RAPID],
        ["serious_incident"],
        {"incident_notification", "rapid_review", "panel_response"},
        "events.0 (rapid_review_completed on 2026-12-10) was recorded before the record was "
        "amended and stays recorded (it happened), though the record as it now stands says: "
        "before the incident date 2026-12-15",
    ),
    "s2_historical_harm_amended_away_after_the_panel_was_consulted": (
        make_record(
            make_child(date_of_birth="2000-01-01", outcome="seriously_harmed"), date="2010-05-01"
        ),
        [make_event("panel_consulted", "2026-12-01", outcome="notify")],
        ["serious_incident"],
        {"incident_notification", "rapid_review"},
        "the ordinary rows apply",
    ),
    "s2_young_adult_found_after_the_rapid_review_is_not_blocked": (
        make_record(
            make_child(date_of_birth="2000-01-01", outcome="seriously_harmed"), **HISTORICAL
        ),
        [RAPID],
        ["serious_incident", "young_adult_historical_harm"],
        {"incident_notification", "rapid_review", "panel_response"},
        "would not now be notified to the Panel",
    ),
}


@pytest.mark.parametrize(
    ("raw", "events", "classification", "owed", "warning"),
    list(AMENDED.values()),
    ids=list(AMENDED),
)
def test_recorded_events_are_kept_after_an_amendment(
    raw: dict[str, Any],
    events: list[dict[str, Any]],
    classification: list[str],
    owed: set[str],
    warning: str,
) -> None:
    plan = run(raw, events, recorded=len(events))
    body = plan.to_json_dict()
    assert body["classification"] == classification
    assert (body["notifiable"], body["blocked_reason"]) == (True, None)
    assert documents(plan) == owed
    assert any(warning in text for text in plan.warnings), plan.warnings


@pytest.mark.parametrize(
    ("raw", "events"), [(raw, events) for raw, events, *_ in AMENDED.values()], ids=list(AMENDED)
)
def test_the_same_events_given_as_new_are_still_refused(
    raw: dict[str, Any], events: list[dict[str, Any]]
) -> None:
    """``plan`` and a new event are checked against the record as it stands."""
    with pytest.raises(EventRefused):
        run(raw, events, recorded=0)


ABUSE_RULED_OUT = make_record(abuse_or_neglect="not_known_or_suspected")


def test_s2_s4_the_review_process_continues_after_the_amendment() -> None:
    """§2: the incident was notified as a serious incident; §3, §4: the partners still tell the
    Panel what review follows, so a new decision is accepted."""
    decided = make_event("lcspr_decided", "2026-12-18", decision="no_review")
    plan = run(ABUSE_RULED_OUT, [RAPID, decided], recorded=1)
    assert {
        (o.document, o.addressee) for o in plan.obligations if o.document == "lcspr_decision"
    } == {("lcspr_decision", "panel")}


NEW_EVENT_REFUSED = {
    "dated_before_the_amended_became_aware_on": (
        make_record(
            make_child(date_of_death="2026-12-12"), date="2026-12-12", became_aware_on="2026-12-15"
        ),
        make_event("panel_response_received", "2026-12-14"),
        "before the local authority became aware",
    ),
    "state_machine_still_applies": (
        ABUSE_RULED_OUT,
        make_event("rapid_review_completed", "2026-12-11"),
        "already completed on 2026-12-10",
    ),
}


@pytest.mark.parametrize(
    ("raw", "event", "reason"), list(NEW_EVENT_REFUSED.values()), ids=list(NEW_EVENT_REFUSED)
)
def test_a_new_event_after_the_amendment_is_still_checked(
    raw: dict[str, Any], event: dict[str, Any], reason: str
) -> None:
    with pytest.raises(EventRefused, match=reason) as caught:
        run(raw, [RAPID, event], recorded=1)
    assert str(caught.value).startswith("events.1 ")


def test_without_a_recorded_rapid_review_the_amended_facts_decide() -> None:
    """Nothing of the review process has happened: §3 asks for a rapid review of a case that
    meets the criteria, and the amended record says this one does not."""
    plan = run(ABUSE_RULED_OUT, [], recorded=0)
    assert plan.to_json_dict()["classification"] == ["not_notifiable"]
    assert plan.obligations == ()
