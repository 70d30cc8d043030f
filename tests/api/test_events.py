"""POST /incidents/{id}/events: each lifecycle event, and what it changes (DESIGN.md §5, §7)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from adapter.store import outbox
from tests.support.api import (
    API,
    LOCAL_REVIEW,
    assert_problem,
    document_event,
    new_record,
    owed,
    plain_event,
    post_event,
    submit,
    young_adult_record,
)
from tests.support.service import Service

RAPID_REVIEW = document_event("rapid_review_completed", on="2026-11-24")
DECIDED = document_event("lcspr_decided", on="2026-11-25", **LOCAL_REVIEW)
SCHEDULED = document_event(
    "publication_scheduled", on="2026-11-26", publication_date="2027-03-01", mode="full_report"
)

CASES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    # event type: (the events before it, the event)
    "rapid_review_completed": ([], RAPID_REVIEW),
    "panel_response_received": ([RAPID_REVIEW], plain_event("panel_response_received")),
    "lcspr_decided": ([RAPID_REVIEW], DECIDED),
    "publication_scheduled": ([RAPID_REVIEW, DECIDED], SCHEDULED),
    "publication_delayed": (
        [RAPID_REVIEW, DECIDED],
        document_event("publication_delayed", on="2026-11-26", reason="criminal trial"),
    ),
    "published": (
        [RAPID_REVIEW, DECIDED, SCHEDULED],
        plain_event("published", on="2026-11-26", url="https://example.org/lcspr"),
    ),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_event_type_is_recorded(service: Service, la_key: str, kind: str) -> None:
    before, event = CASES[kind]
    incident_id = submit(service, la_key)["id"]
    for earlier in before:
        post_event(service, la_key, incident_id, earlier)
    body = post_event(service, la_key, incident_id, event)
    assert (body["type"], body["on"], body["incident_id"]) == (kind, event["on"], incident_id)
    timeline = service.get(f"{API}/incidents/{incident_id}", la_key).get_json()["timeline"]
    assert f"{kind} on {event['on']}" in [e["summary"] for e in timeline if e["kind"] == "event"]


def test_panel_consulted_notify_unblocks_a_young_adults_historical_harm(
    service: Service, la_key: str
) -> None:
    created = submit(service, la_key, young_adult_record())
    assert created["status"] == "blocked"
    assert created["obligations"] == [] and created["deliveries"] == []
    body = post_event(
        service, la_key, created["id"], plain_event("panel_consulted", outcome="notify")
    )
    assert ("incident_notification", "panel") in owed(body["obligations"])
    assert [d["document"] for d in body["deliveries"]] == ["incident_notification"]
    shown = service.get(f"{API}/incidents/{created['id']}", la_key).get_json()
    assert shown["status"] == "notifiable"


def test_rapid_review_delivery_sends_exactly_the_uploaded_document(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    body = post_event(service, la_key, incident_id, RAPID_REVIEW)
    (delivery,) = body["deliveries"]
    assert (delivery["document"], delivery["addressee"]) == ("rapid_review", "panel")
    assert ("panel_response", "panel") in owed(body["obligations"])
    payload = sent_payload(service, delivery["id"])
    attachment = payload["attachment"]
    assert base64.b64decode(attachment["content_base64"]) == b"%PDF-1.7 rapid_review_completed"
    assert attachment["media_type"] == "application/pdf"
    service.work()
    received = service.sandbox.state.stats()["addressees"]["panel"]["received"]
    assert received[delivery["id"]]["document"] == "rapid_review"


def test_local_review_decision_adds_lcspr_decision_and_publication(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    before = post_event(service, la_key, incident_id, RAPID_REVIEW)["obligations"]
    assert not {doc for doc, _ in owed(before)} & {"lcspr_decision", "publication"}
    body = post_event(service, la_key, incident_id, DECIDED)
    added = owed(body["obligations"]) - owed(before)
    assert added == {
        ("lcspr_decision", "panel"),
        ("lcspr_decision", "ofsted"),
        ("lcspr_decision", "dfe"),
        ("decision_rationale_to_family", "family"),  # §4, local: never delivered
        ("publication", "public"),
    }
    publication = next(o for o in body["obligations"] if o["document"] == "publication")
    assert publication["due"] == "2027-05-25"  # §8: six months from the decision
    assert sorted(d["addressee"] for d in body["deliveries"]) == ["dfe", "ofsted", "panel"]
    service.work()
    assert service.sandbox.state.stats()["addressees"]["dfe"]["count"] == 1


def _decision(obligations: list[dict[str, Any]], addressee: str) -> dict[str, Any]:
    return next(
        o for o in obligations if (o["document"], o["addressee"]) == ("lcspr_decision", addressee)
    )


def test_a_changed_decision_is_sent_and_owed_until_acknowledged(
    service: Service, la_key: str
) -> None:
    """§3: "at a later stage if ... new information comes to light which suggests that a
    national review may be appropriate" the partners tell the Panel: a new document, owed
    afresh, not met by the first decision's acknowledgement."""
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    service.work()
    assert _decision(_incident(service, la_key, incident_id), "panel")["status"] == "met"

    changed = document_event(
        "lcspr_decided", on="2026-11-26", decision="national_review_recommended"
    )
    body = post_event(service, la_key, incident_id, changed)

    assert [(d["document"], d["addressee"]) for d in body["deliveries"]] == [
        ("lcspr_decision", "panel")
    ]
    panel = _decision(body["obligations"], "panel")
    assert panel["status"] in ("pending", "due_soon")
    assert panel["due"] == "2026-12-03"  # 5 working days after the new decision
    service.work()
    assert _decision(_incident(service, la_key, incident_id), "panel")["status"] == "met"
    received = service.sandbox.state.stats()["addressees"]["panel"]["received"]
    assert [r["document"] for r in received.values()].count("lcspr_decision") == 2
    payload = sent_payload(service, body["deliveries"][0]["id"])
    assert payload["event"]["decision"] == "national_review_recommended"


def test_replanning_does_not_send_an_unchanged_decision_again(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    service.work()
    record = new_record()
    record["incident"]["reference"] = service.get(
        f"{API}/incidents/{incident_id}", la_key
    ).get_json()["record"]["incident"]["reference"]
    record["incident"]["summary"] = "Facts that emerged later."
    before = _deliveries(service, la_key, incident_id)
    response = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, record)
    assert response.status_code == 201, response.get_json()
    added = [d for i, d in _deliveries(service, la_key, incident_id).items() if i not in before]
    assert added and {d["document"] for d in added} == {"amendment"}


def _deliveries(service: Service, key: str, incident_id: str) -> dict[str, dict[str, Any]]:
    response = service.get(f"{API}/deliveries", key, incident=incident_id)
    return {d["id"]: d for d in response.get_json()["items"]}


def test_a_delay_notice_is_sent_with_the_reasons_once_recorded(
    service: Service, la_key: str
) -> None:
    """§8: "inform the Panel and the Secretary of State of the reasons for the delay": a date
    past the 6-month limit makes the notice owed; the recorded reasons are what is sent."""
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    late = document_event(
        "publication_scheduled", on="2026-11-26", publication_date="2027-09-01", mode="full_report"
    )
    body = post_event(service, la_key, incident_id, late)
    assert ("publication_delay_notice", "panel") in owed(body["obligations"])
    assert "publication_delay_notice" not in {d["document"] for d in body["deliveries"]}

    delayed = document_event("publication_delayed", on="2026-11-26", reason="criminal trial")
    body = post_event(service, la_key, incident_id, delayed)
    notices = [d for d in body["deliveries"] if d["document"] == "publication_delay_notice"]
    assert sorted(d["addressee"] for d in notices) == ["panel", "secretary_of_state"]
    payload = sent_payload(service, notices[0]["id"])
    assert payload["event"]["reason"] == "criminal trial"


def test_changing_the_report_mode_sends_the_new_document_and_leaves_the_old_met(
    service: Service, la_key: str
) -> None:
    """§8: a full report's copies were sent and met; the LA then publishes improvements only.
    The improvements information is owed and sent; the report's copies stay met, not resent."""
    incident_id = submit(service, la_key)["id"]
    for event in (RAPID_REVIEW, DECIDED, SCHEDULED):
        post_event(service, la_key, incident_id, event)
    service.work()
    switched = document_event(
        "publication_scheduled",
        on="2026-11-27",
        publication_date="2027-03-01",
        mode="improvements_only",
    )
    body = post_event(service, la_key, incident_id, switched)
    assert {d["document"] for d in body["deliveries"]} == {"improvements_information"}
    service.work()
    reports = [
        o for o in _incident(service, la_key, incident_id) if o["document"] == "final_report"
    ]
    assert reports and {o["status"] for o in reports} == {"met"}


def test_a_backdated_schedule_does_not_replace_the_one_in_force(
    service: Service, la_key: str
) -> None:
    """Events count in the order they happened: a schedule recorded later but dated before
    the one in force is not what the addressees are sent as the latest."""
    incident_id = submit(service, la_key)["id"]
    for event in (RAPID_REVIEW, DECIDED, SCHEDULED):
        post_event(service, la_key, incident_id, event)
    service.work()
    backdated = document_event(
        "publication_scheduled", on="2026-11-25", publication_date="2027-04-01", mode="full_report"
    )
    body = post_event(service, la_key, incident_id, backdated)
    assert body["deliveries"] == []


def sent_payload(service: Service, delivery_id: str) -> dict[str, Any]:
    """The exact payload a delivery sends, as stored (encrypted) in its outbox row."""
    with service.database.session_scope() as session:
        row = outbox.get_delivery(session, "812", delivery_id)
        assert row is not None
        payload: dict[str, Any] = json.loads(outbox.delivery_payload(service.database.keyring, row))
    return payload


def _incident(service: Service, key: str, incident_id: str) -> list[dict[str, Any]]:
    response = service.get(f"{API}/incidents/{incident_id}", key)
    obligations: list[dict[str, Any]] = response.get_json()["obligations"]
    return obligations


def test_a_document_event_without_its_document_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.post(
        f"{API}/incidents/{incident_id}/events",
        la_key,
        plain_event("rapid_review_completed"),
    )
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["document"]


def test_an_event_missing_its_type_fields_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.post(
        f"{API}/incidents/{incident_id}/events", la_key, plain_event("published")
    )
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["url"]


def test_an_out_of_order_event_is_a_409_problem(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.post(
        f"{API}/incidents/{incident_id}/events", la_key, plain_event("panel_response_received")
    )
    problem = assert_problem(response, 409)
    assert "rapid review" in problem["detail"]
    shown = service.get(f"{API}/incidents/{incident_id}", la_key).get_json()
    assert [e for e in shown["timeline"] if e["kind"] == "event"] == []


def test_an_event_before_the_la_became_aware_is_409(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    early = document_event("rapid_review_completed", on="2026-11-22")
    response = service.post(f"{API}/incidents/{incident_id}/events", la_key, early)
    assert "became aware" in assert_problem(response, 409)["detail"]


def test_the_same_event_twice_is_409(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    response = service.post(f"{API}/incidents/{incident_id}/events", la_key, RAPID_REVIEW)
    assert_problem(response, 409)


def test_an_event_dated_in_the_future_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    future = document_event("rapid_review_completed", on="2099-01-01")
    problem = assert_problem(
        service.post(f"{API}/incidents/{incident_id}/events", la_key, future), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["on"]


def test_an_event_of_an_unknown_type_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.post(
        f"{API}/incidents/{incident_id}/events", la_key, plain_event("party_held")
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "type"


def test_an_event_for_an_unknown_incident_is_404(service: Service, la_key: str) -> None:
    response = service.post(f"{API}/incidents/nope/events", la_key, RAPID_REVIEW)
    assert_problem(response, 404)


def test_panel_consulted_on_an_ordinary_incident_is_409(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key, new_record())["id"]
    response = service.post(
        f"{API}/incidents/{incident_id}/events",
        la_key,
        plain_event("panel_consulted", outcome="notify"),
    )
    assert_problem(response, 409)
