"""Amendments and changed decisions once the lifecycle has begun, through the service.

- DESIGN.md §4, guidance §2: "Facts that emerge later are amendments": an amendment is always
  stored and sent, the events already recorded stay recorded, and an incident notified as a
  serious incident whose rapid review is recorded stays one (§2, §3).
- §2: a looked-after child's death is notified from the death, not before it.
- §4, §5: the partners may reconsider a ``no_review`` decision; the new decision goes to those
  it concerns (§3, §4: the Panel, Ofsted and the DfE for a local review).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.api import (
    API,
    LOCAL_REVIEW,
    document_event,
    new_record,
    plain_event,
    post_event,
    submit,
    young_adult_record,
)
from tests.support.service import Service

RAPID_REVIEW = document_event("rapid_review_completed", on="2026-11-24")


def serious_harm_record() -> dict[str, Any]:
    """Abuse suspected, a child (not looked after) died: the Panel is notified (§1, §2)."""
    record = new_record()
    record["children"][0]["looked_after"] = False
    return record


def amend(service: Service, key: str, incident_id: str, record: dict[str, Any]) -> Any:
    return service.post(f"{API}/incidents/{incident_id}/amendments", key, record)


def _rule_out_abuse(record: dict[str, Any]) -> None:
    record["incident"]["abuse_or_neglect"] = "not_known_or_suspected"


def _child_found_to_be_18(record: dict[str, Any]) -> None:
    record["children"][0]["date_of_birth"] = "2008-01-01"


def _incident_later_than_the_rapid_review(record: dict[str, Any]) -> None:
    record["incident"].update(date="2026-11-25", became_aware_on="2026-11-25")
    record["children"][0]["date_of_death"] = "2026-11-25"


AMENDMENTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "s1_abuse_ruled_out": _rule_out_abuse,
    "s1_child_found_to_be_18": _child_found_to_be_18,
    "incident_date_amended_to_after_the_rapid_review": _incident_later_than_the_rapid_review,
}


@pytest.mark.parametrize("change", list(AMENDMENTS.values()), ids=list(AMENDMENTS))
def test_s2_an_amendment_after_the_rapid_review_is_stored_and_keeps_the_events(
    service: Service, la_key: str, change: Callable[[dict[str, Any]], None]
) -> None:
    record = serious_harm_record()
    incident_id = submit(service, la_key, record)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    service.work()
    amended = copy.deepcopy(record)
    change(amended)

    response = amend(service, la_key, incident_id, amended)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["current_version"]) == ("notifiable", 2)
    events = [e["summary"] for e in body["timeline"] if e["kind"] == "event"]
    assert events == ["rapid_review_completed on 2026-11-24"]
    owed = {(o["document"], o["addressee"]): o["status"] for o in body["obligations"]}
    # §2: notified as a serious incident: the notification and rapid review met stay met, and
    # the Panel's response to the rapid review is still expected (§3).
    assert owed[("incident_notification", "panel")] in ("met", "met_late")
    assert owed[("rapid_review", "panel")] in ("met", "met_late")
    assert ("panel_response", "panel") in owed
    assert "amendment" in {d["document"] for d in body["deliveries"]}
    # §3, §4: the review process goes on; the partners tell the Panel what review follows.
    decided = document_event("lcspr_decided", on="2026-11-26", decision="no_review")
    post_event(service, la_key, incident_id, decided)


def test_s2_a_new_event_is_still_checked_against_the_amended_record(
    service: Service, la_key: str
) -> None:
    record = serious_harm_record()
    incident_id = submit(service, la_key, record)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    amended = copy.deepcopy(record)
    _incident_later_than_the_rapid_review(amended)
    assert amend(service, la_key, incident_id, amended).status_code == 201

    early = plain_event("panel_response_received", on="2026-11-24")
    response = service.post(f"{API}/incidents/{incident_id}/events", la_key, early)

    assert response.status_code == 409
    assert "before the incident date 2026-11-25" in response.get_json()["detail"]


def test_s2_historical_harm_amended_away_after_the_panel_was_consulted(
    service: Service, la_key: str
) -> None:
    record = young_adult_record()
    incident_id = submit(service, la_key, record)["id"]
    post_event(
        service, la_key, incident_id, plain_event("panel_consulted", "2026-11-25", outcome="notify")
    )
    amended = copy.deepcopy(record)
    amended["incident"]["historical_harm"] = False  # harmed at 10: the ordinary rows (§1, §2)

    response = amend(service, la_key, incident_id, amended)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "notifiable"
    assert [e["summary"] for e in body["timeline"] if e["kind"] == "event"] == [
        "panel_consulted on 2026-11-25"
    ]
    notification = next(o for o in body["obligations"] if o["document"] == "incident_notification")
    assert "(became aware)" in notification["explanation"]


def test_s2_a_looked_after_childs_death_is_owed_from_the_death(
    service: Service, la_key: str
) -> None:
    """Seriously harmed on 2026-11-02 (the LA aware that day), died on 2026-11-20: the Panel's
    notification of the harm runs from awareness, the death notification from the death."""
    record = new_record(nature="serious_harm", date="2026-11-02", became_aware_on="2026-11-02")
    record["children"][0].update(outcome="seriously_harmed", date_of_death=None)
    incident_id = submit(service, la_key, record)["id"]
    amended = copy.deepcopy(record)
    amended["incident"]["nature"] = "death"
    amended["children"][0].update(outcome="died", date_of_death="2026-11-20")

    body = amend(service, la_key, incident_id, amended).get_json()

    due = {
        (o["document"], o["addressee"]): (o["due"], o["explanation"]) for o in body["obligations"]
    }
    assert due[("incident_notification", "panel")] == (
        "2026-11-09",
        "5 working days after 2026-11-02 (became aware)",
    )
    for addressee in ("secretary_of_state", "ofsted"):
        assert due[("looked_after_child_death_notification", addressee)] == (
            "2026-11-27",
            "5 working days after 2026-11-20 (the child's death, which came after the local "
            "authority became aware)",
        )


def test_s4_local_review_after_no_review_is_sent_to_the_panel_ofsted_and_dfe(
    service: Service, la_key: str
) -> None:
    """§4: "a case which the Panel have considered and concluded a local review may be more
    appropriate": the partners reconsider; §3, §4: the Panel, Ofsted and the DfE are told."""
    incident_id = submit(service, la_key, serious_harm_record())["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(
        service,
        la_key,
        incident_id,
        document_event("lcspr_decided", on="2026-11-25", decision="no_review"),
    )
    service.work()

    local = document_event("lcspr_decided", on="2026-11-26", **LOCAL_REVIEW)
    body = post_event(service, la_key, incident_id, local)

    assert sorted((d["document"], d["addressee"]) for d in body["deliveries"]) == [
        ("lcspr_decision", "dfe"),
        ("lcspr_decision", "ofsted"),
        ("lcspr_decision", "panel"),
    ]
    decisions = {
        o["addressee"]: o for o in body["obligations"] if o["document"] == "lcspr_decision"
    }
    assert decisions["panel"]["status"] in ("pending", "due_soon")  # owed afresh
    assert {o["due"] for o in decisions.values()} == {"2026-12-03"}
    assert ("publication", "public") in {
        (o["document"], o["addressee"]) for o in body["obligations"]
    }
    service.work()
    received = service.sandbox.state.stats()["addressees"]
    assert [r["document"] for r in received["panel"]["received"].values()].count(
        "lcspr_decision"
    ) == 2
    assert received["dfe"]["count"] == 1
