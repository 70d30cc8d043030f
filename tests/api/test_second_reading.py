"""The second reading's events through ``POST /incidents/{id}/events`` (DESIGN.md §5, §7):
referrals by partner agencies (§3), the family (§4), further information (§5), the publication
decision and withdrawal (§8). Local obligations are tracked and never delivered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from adapter.clock import LONDON
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
)
from tests.support.service import Service

RAPID_REVIEW = document_event("rapid_review_completed", on="2026-11-24")
DECIDED = document_event("lcspr_decided", on="2026-11-25", **LOCAL_REVIEW)
LOCAL = {"safeguarding_partners", "family", "public"}


def today() -> str:
    """The service's today (London): a referral is received the day it is submitted."""
    return dt.datetime.now(LONDON).date().isoformat()


def deliveries(service: Service, key: str, incident_id: str) -> list[tuple[str, str]]:
    items = service.get(f"{API}/deliveries", key, incident=incident_id).get_json()["items"]
    return sorted((item["document"], item["addressee"]) for item in items)


def obligations(service: Service, key: str, incident_id: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = service.get(f"{API}/incidents/{incident_id}", key).get_json()[
        "obligations"
    ]
    return body


def test_s3_an_agencys_referral_owes_the_partners_a_decision_and_sends_nothing(
    service: Service, la_key: str
) -> None:
    agency = service.key("agency", "812")
    body = submit(service, agency, new_record())
    assert body["status"] == "referral"
    assert owed(body["obligations"]) == {
        ("referral_decision", "safeguarding_partners"),
        ("rapid_review", "safeguarding_partners"),
    }
    assert {o["kind"] for o in body["obligations"]} == {"local"}
    assert body["deliveries"] == []
    record = service.get(f"{API}/incidents/{body['id']}", la_key).get_json()["record"]
    assert record["referral"]["received_on"] == today()
    assert record["referral"]["agency"]


def test_s3_referral_decided_notify_turns_it_into_the_notification(
    service: Service, la_key: str
) -> None:
    referral = submit(service, service.key("agency", "812"), new_record())["id"]
    early = document_event("lcspr_decided", on=today(), **LOCAL_REVIEW)
    problem = assert_problem(service.post(f"{API}/incidents/{referral}/events", la_key, early), 409)
    assert "an agency's referral is decided first" in problem["detail"]

    decided = plain_event(
        "referral_decided", on=today(), decision="notify", rationale="abuse suspected, §1"
    )
    body = post_event(service, la_key, referral, decided)
    assert {("incident_notification", "panel")} <= set(
        (d["document"], d["addressee"]) for d in body["deliveries"]
    )
    shown = service.get(f"{API}/incidents/{referral}", la_key).get_json()
    assert shown["status"] == "notifiable"
    rows = {(o["document"], o["addressee"]): o for o in shown["obligations"]}
    assert "(referral received)" in rows[("incident_notification", "panel")]["explanation"]
    assert rows[("referral_decision", "safeguarding_partners")]["status"] == "met"
    assert ("rapid_review", "safeguarding_partners") not in rows


def test_s3_do_not_notify_keeps_the_local_rapid_review_and_sends_nothing(
    service: Service, la_key: str
) -> None:
    referral = submit(service, service.key("agency", "812"), new_record())["id"]
    decided = plain_event(
        "referral_decided", on=today(), decision="do_not_notify", rationale="no abuse"
    )
    post_event(service, la_key, referral, decided)
    done = post_event(
        service, la_key, referral, document_event("rapid_review_completed", on=today())
    )
    assert done["deliveries"] == []
    rows = {(o["document"], o["addressee"]): o for o in obligations(service, la_key, referral)}
    assert rows[("rapid_review", "safeguarding_partners")]["status"] == "met"
    service.work()
    assert deliveries(service, la_key, referral) == []


def test_s3_referral_decided_on_a_notification_is_refused(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    decided = plain_event("referral_decided", on="2026-11-26", decision="notify", rationale="r")
    problem = assert_problem(
        service.post(f"{API}/incidents/{incident_id}/events", la_key, decided), 409
    )
    assert "not an agency's referral" in problem["detail"]


def test_s4_the_rationale_to_the_family_is_tracked_never_delivered(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    refused = service.post(
        f"{API}/incidents/{incident_id}/events",
        la_key,
        plain_event("family_informed", on="2026-11-24"),
    )
    assert "none has been recorded" in assert_problem(refused, 409)["detail"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    rows = {(o["document"], o["addressee"]): o for o in obligations(service, la_key, incident_id)}
    assert rows[("decision_rationale_to_family", "family")]["kind"] == "local"
    post_event(service, la_key, incident_id, plain_event("family_informed", on="2026-11-26"))
    rows = {(o["document"], o["addressee"]): o for o in obligations(service, la_key, incident_id)}
    assert rows[("decision_rationale_to_family", "family")]["status"] == "met"
    service.work()
    assert not {addressee for _, addressee in deliveries(service, la_key, incident_id)} & LOCAL


def test_s5_further_information_asked_and_sent_is_delivered_to_the_panel(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    asked = plain_event("panel_information_requested", on="2026-11-25", due="2026-12-04")
    body = post_event(service, la_key, incident_id, asked)
    assert body["deliveries"] == []
    unsent = service.post(
        f"{API}/incidents/{incident_id}/events",
        la_key,
        plain_event("further_information_sent", on="2026-11-26"),
    )
    assert "document" in str(assert_problem(unsent, 422)["errors"])
    sent = post_event(
        service, la_key, incident_id, document_event("further_information_sent", on="2026-11-26")
    )
    assert [(d["document"], d["addressee"]) for d in sent["deliveries"]] == [
        ("further_information", "panel")
    ]
    rows = {(o["document"], o["addressee"]): o for o in obligations(service, la_key, incident_id)}
    assert rows[("further_information", "panel")]["due"] == "2026-12-04"


def test_s5_further_information_sent_unasked_is_delivered_and_owes_nothing(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    sent = post_event(
        service, la_key, incident_id, document_event("further_information_sent", on="2026-11-26")
    )
    assert [(d["document"], d["addressee"]) for d in sent["deliveries"]] == [
        ("further_information", "panel")
    ]
    assert "further_information" not in {
        o["document"] for o in obligations(service, la_key, incident_id)
    }
    service.work()
    received = service.sandbox.state.stats()["addressees"]["panel"]["received"].values()
    assert "further_information" in [r["document"] for r in received]


def test_s8_publish_nothing_owes_the_justification_to_panel_and_secretary_of_state(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    body = post_event(
        service,
        la_key,
        incident_id,
        document_event("publication_decided", on="2026-11-26", publish="none"),
    )
    assert sorted((d["document"], d["addressee"]) for d in body["deliveries"]) == [
        ("publication_justification", "panel"),
        ("publication_justification", "secretary_of_state"),
    ]
    documents = {o["document"] for o in obligations(service, la_key, incident_id)}
    assert "publication" not in documents
    scheduled = document_event(
        "publication_scheduled", on=today(), publication_date="2027-03-01", mode="full_report"
    )
    problem = assert_problem(
        service.post(f"{API}/incidents/{incident_id}/events", la_key, scheduled), 409
    )
    assert "publish nothing" in problem["detail"]


def test_s8_publication_withdrawn_before_published_is_refused(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, RAPID_REVIEW)
    post_event(service, la_key, incident_id, DECIDED)
    withdrawn = plain_event("publication_withdrawn", on="2026-11-26")
    problem = assert_problem(
        service.post(f"{API}/incidents/{incident_id}/events", la_key, withdrawn), 409
    )
    assert "nothing has been published to withdraw" in problem["detail"]


def test_s3_an_agency_resending_its_referral_another_day_is_an_identical_resubmission(
    service: Service,
) -> None:
    agency = service.key("agency", "812")
    record = new_record()
    first = submit(service, agency, record)
    later = dt.datetime.now(LONDON) + dt.timedelta(days=3)
    with time_machine.travel(later, tick=True):
        again = service.post(f"{API}/incidents", agency, record)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["id"] == first["id"]
