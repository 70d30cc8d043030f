"""Tenancy (no key sees another LA's records) and roles (DESIGN.md §4, §7)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from adapter.clock import LONDON
from adapter.sandbox.state import Fault
from tests.support.api import (
    API,
    LOCAL_REVIEW,
    OTHER_LA,
    assert_problem,
    document_event,
    new_record,
    owed,
    submit,
)
from tests.support.service import Service


def failed_delivery_of(service: Service, la: str) -> tuple[str, str]:
    """An incident of LA ``la`` whose deliveries all failed: ``(incident id, a delivery id)``."""
    service.sandbox.state.add_faults([Fault(status=400)])
    created = submit(service, service.key("local_authority", la), new_record(la))
    service.work()
    service.sandbox.state.clear_faults()
    return created["id"], created["deliveries"][0]["id"]


def test_another_las_incident_is_404_on_every_endpoint_taking_an_id(service: Service) -> None:
    incident_b, delivery_b = failed_delivery_of(service, OTHER_LA)
    key_a, admin_a = service.key("local_authority", "812"), service.key("admin", "812")
    compliance_a = service.key("compliance", "812")
    key_b = service.key("local_authority", OTHER_LA)
    record_b = service.get(f"{API}/incidents/{incident_b}", key_b).get_json()
    calls = [
        service.get(f"{API}/incidents/{incident_b}", key_a),
        service.get(f"{API}/incidents/{incident_b}", admin_a),
        service.get(f"{API}/incidents/{incident_b}", compliance_a),
        service.post(f"{API}/incidents/{incident_b}/amendments", key_a, record_b["record"]),
        service.post(f"{API}/incidents/{incident_b}/amendments", key_a, new_record()),
        service.post(
            f"{API}/incidents/{incident_b}/events",
            key_a,
            document_event("rapid_review_completed"),
        ),
        service.post(f"{API}/deliveries/{delivery_b}/retry", admin_a, None),
    ]
    for response in calls:
        assert_problem(response, 404)
    unchanged = service.get(f"{API}/incidents/{incident_b}", service.key("admin", "*")).get_json()
    assert unchanged["current_version"] == 1 and unchanged["timeline"] == record_b["timeline"]


def test_lists_never_show_another_las_rows(service: Service) -> None:
    incident_b, _ = failed_delivery_of(service, OTHER_LA)
    key_a = service.key("local_authority", "812")
    incident_a = submit(service, key_a)["id"]
    for key in (key_a, service.key("admin", "812"), service.key("compliance", "812")):
        for path in ("deadlines", "deliveries"):
            items = service.get(f"{API}/{path}", key).get_json()["items"]
            assert items and {item["incident_id"] for item in items} == {incident_a}
            filtered = service.get(f"{API}/{path}", key, incident=incident_b).get_json()
            assert filtered["items"] == []
        assert service.get(f"{API}/deliveries", key, status="failed").get_json()["items"] == []


def test_a_cross_la_admin_sees_every_la(service: Service) -> None:
    incident_b, delivery_b = failed_delivery_of(service, OTHER_LA)
    incident_a = submit(service, service.key("local_authority", "812"))["id"]
    admin = service.key("admin", "*")
    for path in ("deadlines", "deliveries"):
        items = service.get(f"{API}/{path}", admin).get_json()["items"]
        assert {item["incident_id"] for item in items} == {incident_a, incident_b}
    assert service.get(f"{API}/incidents/{incident_b}", admin).status_code == 200
    assert service.post(f"{API}/deliveries/{delivery_b}/retry", admin, None).status_code == 202


def test_submitting_another_las_record_is_403(service: Service, la_key: str) -> None:
    problem = assert_problem(service.post(f"{API}/incidents", la_key, new_record(OTHER_LA)), 403)
    assert OTHER_LA in problem["detail"]
    admin = service.key("admin", "*")
    assert service.get(f"{API}/deadlines", admin).get_json()["items"] == []


def test_an_agency_submits_a_referral_that_owes_only_local_duties_and_is_not_sent(
    service: Service,
) -> None:
    """§3: the partners owe a decision on it and a local rapid review; nothing is sent."""
    agency = service.key("agency", "812")
    response = service.post(f"{API}/incidents", agency, new_record())
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "referral"
    assert body["deliveries"] == []
    assert {(o["addressee"], o["kind"]) for o in body["obligations"]} == {
        ("safeguarding_partners", "local")
    }
    service.work()
    stats = service.sandbox.state.stats()["addressees"]
    assert all(entry["requests"] == 0 for entry in stats.values())
    reader = service.key("compliance", "812")
    assert service.get(f"{API}/deliveries", reader).get_json()["items"] == []
    assert service.get(f"{API}/incidents/{body['id']}", reader).get_json()["status"] == "referral"


@pytest.mark.parametrize("changed", [False, True], ids=["same record", "changed record"])
def test_the_la_notifies_what_an_agency_referred(
    service: Service, la_key: str, changed: bool
) -> None:
    """§3: the partners consider a referral, then the LA notifies under the same reference:
    the referral becomes the notification, planned and sent (it must not read as a harmless
    resubmission and leave the Panel unnotified)."""
    record, agency = new_record(), service.key("agency", "812")
    referral = submit(service, agency, record)
    if changed:
        record["incident"]["summary"] = "The partners' account of what happened."
    response = service.post(f"{API}/incidents", la_key, record)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == referral["id"]
    assert body["status"] != "referral"
    assert ("incident_notification", "panel") in owed(body["obligations"])
    assert {d["addressee"] for d in body["deliveries"]} >= {"panel"}
    service.work()
    assert service.sandbox.state.stats()["addressees"]["panel"]["count"] >= 1
    again = service.post(f"{API}/incidents", la_key, record)
    assert again.status_code == 200
    resent = service.post(f"{API}/incidents", agency, record)
    assert (
        "is already in use, so this referral was not recorded"
        in (assert_problem(resent, 409)["detail"])
    )


def test_an_agency_learns_nothing_of_an_la_notification_under_its_reference(
    service: Service, la_key: str
) -> None:
    record = new_record()
    notified = submit(service, la_key, record)
    changed = copy.deepcopy(record)
    changed["incident"]["summary"] = "An agency's account."
    for body in (record, changed):
        problem = assert_problem(
            service.post(f"{API}/incidents", service.key("agency", "812"), body), 409
        )
        assert notified["id"] not in problem["detail"]


def test_an_agencys_conflicts_all_read_the_same(service: Service, la_key: str) -> None:
    """Issue 19: the 409 an agency gets must not say whether the LA notified the reference:
    its own referral sent again changed, and the LA's notification, answer in the same words."""
    agency = service.key("agency", "812")
    own = new_record()
    submit(service, agency, own)
    changed = copy.deepcopy(own)
    changed["incident"]["summary"] = "A changed account."
    notified = new_record()
    submit(service, la_key, notified)
    changed_notified = copy.deepcopy(notified)
    changed_notified["incident"]["summary"] = "A changed account."

    def detail(record: dict[str, object]) -> str:
        body = assert_problem(service.post(f"{API}/incidents", agency, record), 409)
        reference = str(record["incident"]["reference"])  # type: ignore[index]
        return str(body["detail"]).replace(reference, "REF")

    details = {detail(changed), detail(notified), detail(changed_notified)}
    assert len(details) == 1, details


def test_a_referral_takes_its_rapid_review_and_refuses_the_review_process(
    service: Service, la_key: str
) -> None:
    """§3: a rapid review of every case raised by a partner organisation; the review process
    follows only once the partners decide to notify (DESIGN.md §7)."""
    today = dt.datetime.now(LONDON).date().isoformat()
    referral = submit(service, service.key("agency", "812"))["id"]
    reviewed = service.post(
        f"{API}/incidents/{referral}/events",
        la_key,
        document_event("rapid_review_completed", on=today),
    )
    assert reviewed.status_code == 201, reviewed.get_json()
    assert reviewed.get_json()["deliveries"] == []
    decided = document_event("lcspr_decided", on=today, **LOCAL_REVIEW)
    response = service.post(f"{API}/incidents/{referral}/events", la_key, decided)
    assert "referral is decided first" in assert_problem(response, 409)["detail"]


# --- what each role may do ------------------------------------------------------------------

ENDPOINTS = (
    "submit",
    "read",
    "amend",
    "event",
    "plan",
    "deadlines",
    "deliveries",
    "retry",
    "metrics",
)
ALLOWED: dict[str, set[str]] = {
    "local_authority": {"submit", "read", "amend", "event", "plan", "deadlines", "deliveries"},
    "agency": {"submit", "plan"},
    "admin": {"read", "plan", "deadlines", "deliveries", "retry", "metrics"},
    "compliance": {"read", "plan", "deadlines", "deliveries", "metrics"},
}
"""DESIGN.md §7 roles: which endpoints a key of each role may call."""


def call(service: Service, endpoint: str, key: str, ids: dict[str, Any]) -> Any:
    incident, delivery, record = ids["incident"], ids["delivery"], ids["record"]
    changed = {**record, "incident": {**record["incident"], "summary": "amended"}}
    return {
        "submit": lambda: service.post(f"{API}/incidents", key, new_record()),
        "read": lambda: service.get(f"{API}/incidents/{incident}", key),
        "amend": lambda: service.post(f"{API}/incidents/{incident}/amendments", key, changed),
        "event": lambda: service.post(
            f"{API}/incidents/{incident}/events", key, document_event("rapid_review_completed")
        ),
        "plan": lambda: service.post(f"{API}/plan", key, new_record()),
        "deadlines": lambda: service.get(f"{API}/deadlines", key),
        "deliveries": lambda: service.get(f"{API}/deliveries", key),
        "retry": lambda: service.post(f"{API}/deliveries/{delivery}/retry", key, None),
        "metrics": lambda: service.get("/metrics", key),
    }[endpoint]()


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_each_role_may_call_exactly_its_endpoints(service: Service, role: str) -> None:
    record = new_record()
    service.sandbox.state.add_faults([Fault(status=400)])
    created = submit(service, service.key("local_authority", "812"), record)
    service.work()
    ids = {"incident": created["id"], "delivery": created["deliveries"][0]["id"], "record": record}
    key = service.key(role, "812")
    for endpoint in ENDPOINTS:
        response = call(service, endpoint, key, ids)
        if endpoint in ALLOWED[role]:
            assert response.status_code < 300, (endpoint, response.get_json())
        else:
            problem = assert_problem(response, 403)
            assert role in problem["detail"], endpoint


@pytest.mark.parametrize("role", ["admin", "compliance"])
def test_admin_and_compliance_keys_read_an_incident_without_the_childrens_data(
    service: Service, la_key: str, role: str
) -> None:
    """§7: admin works queues and retries, compliance receipts and audit: they see what is owed
    and what happened, not the record's personal data."""
    incident_id = submit(service, la_key)["id"]
    body = service.get(f"{API}/incidents/{incident_id}", service.key(role, "812")).get_json()
    assert body["record"] is None
    assert body["obligations"] and body["deliveries"]
    assert service.get(f"{API}/incidents/{incident_id}", la_key).get_json()["record"]
