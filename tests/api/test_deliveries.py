"""GET /deliveries (filters) and POST /deliveries/{id}/retry (admin only, failed only; §6)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select, update

from adapter.sandbox.state import Fault
from adapter.service import alerts
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DELIVERY_STATUSES, DeliveryRow
from tests.support.api import API, assert_problem, submit
from tests.support.service import Service


def deliveries(service: Service, key: str, **params: Any) -> list[dict[str, Any]]:
    response = service.get(f"{API}/deliveries", key, **params)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def test_deliveries_list_carries_the_documented_fields(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    items = deliveries(service, la_key)
    assert len(items) == 3
    for item in items:
        assert {
            "id",
            "incident_id",
            "document",
            "addressee",
            "status",
            "attempts",
            "due",
            "acknowledged_at",
        } <= set(item)
        assert item["incident_id"] == incident_id
        assert item["due"] == "2026-11-30"


def test_deliveries_filter_by_incident_addressee_and_status(service: Service, la_key: str) -> None:
    first = submit(service, la_key)["id"]
    second = submit(service, la_key)["id"]
    assert {d["incident_id"] for d in deliveries(service, la_key, incident=first)} == {first}
    panel = deliveries(service, la_key, addressee="panel")
    assert sorted(d["incident_id"] for d in panel) == sorted([first, second])
    assert len(deliveries(service, la_key, status="queued")) == 6
    assert deliveries(service, la_key, status="acknowledged") == []
    service.work()
    assert len(deliveries(service, la_key, status="acknowledged")) == 6
    acknowledged = deliveries(service, la_key, status="acknowledged", addressee="ofsted")
    assert all(d["acknowledged_at"] and d["attempts"] == 1 for d in acknowledged)
    assert len(acknowledged) == 2


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("status", "bogus", "queued, sending, retrying, acknowledged, failed"),
        ("status", "Failed", "queued, sending, retrying, acknowledged, failed"),
        ("addressee", "police", "panel, secretary_of_state, ofsted, dfe"),
    ],
)
def test_a_filter_no_delivery_can_match_is_422_naming_the_allowed_values(
    service: Service, la_key: str, name: str, value: str, allowed: str
) -> None:
    """As ``GET /deadlines`` does: a typo must not read as "nothing is failing" (§7)."""
    submit(service, la_key)
    problem = assert_problem(service.get(f"{API}/deliveries", la_key, **{name: value}), 422)
    assert [(e["field"], allowed in e["message"]) for e in problem["errors"]] == [(name, True)]


def test_the_delivery_status_is_documented_as_its_code_list(service: Service) -> None:
    document = service.client.get("/api/openapi.json").get_json()
    statuses = ["queued", "sending", "retrying", "acknowledged", "failed"]
    assert document["components"]["schemas"]["Delivery"]["properties"]["status"]["enum"] == statuses
    assert list(DELIVERY_STATUSES) == statuses  # the API's list is the store's
    parameters = document["paths"]["/api/v1/deliveries"]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    assert [s for s in status["schema"]["enum"] if s is not None] == statuses


def test_deliveries_paginate(service: Service, la_key: str) -> None:
    submit(service, la_key)
    submit(service, la_key)
    first = service.get(f"{API}/deliveries", la_key, limit=4).get_json()
    second = service.get(f"{API}/deliveries", la_key, limit=4, cursor=first["next"]).get_json()
    assert len(first["items"]) == 4 and len(second["items"]) == 2
    assert second["next"] is None
    ids = [d["id"] for d in first["items"] + second["items"]]
    assert len(set(ids)) == 6


def test_a_failed_delivery_is_retried_by_an_admin_until_acknowledged(
    service: Service, la_key: str
) -> None:
    admin = service.key("admin", "812")
    submit(service, la_key)
    service.sandbox.state.add_faults([Fault(addressee="panel", status=400)])
    service.work()
    (failed,) = deliveries(service, admin, status="failed")
    assert failed["addressee"] == "panel"
    assert "400" in (failed["last_error"] or "")
    service.sandbox.state.clear_faults()

    response = service.post(f"{API}/deliveries/{failed['id']}/retry", admin, None)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] == "queued"
    service.work()
    (retried,) = deliveries(service, admin, addressee="panel")
    assert retried["status"] == "acknowledged"
    assert retried["attempts"] == 2
    assert service.sandbox.state.stats()["addressees"]["panel"]["count"] == 1


def test_a_misconfigured_channel_fails_the_delivery_with_an_alert_until_fixed(
    service: Service, la_key: str
) -> None:
    """§6: no retry fixes a channel's configuration (here the Panel's endpoint unset): the
    delivery fails at once and alerts, rather than sit "sending" for the sweeper to loop on;
    an admin retries it once the configuration is fixed."""
    admin = service.key("admin", "812")
    configured = service.settings
    broken = dict(configured.addressees) | {"panel": {"channel": "https"}}
    service.settings = dataclasses.replace(configured, addressees=broken)
    submit(service, la_key)
    service.work()
    (failed,) = deliveries(service, admin, status="failed")
    assert failed["addressee"] == "panel"
    assert "panel" in (failed["last_error"] or "")
    with service.database.session_scope() as session:
        raised = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == f"alert.{alerts.DELIVERY_FAILED}")
        ).all()
        assert [entry.object_id for entry in raised] == [failed["id"]]

    service.settings, service._context = configured, None  # the configuration fixed
    response = service.post(f"{API}/deliveries/{failed['id']}/retry", admin, None)
    assert response.status_code == 202, response.get_json()
    service.work()
    (retried,) = deliveries(service, admin, addressee="panel")
    assert retried["status"] == "acknowledged"


def test_a_payload_that_cannot_be_read_fails_the_delivery_with_an_alert(
    service: Service, la_key: str
) -> None:
    """A stored payload altered (or encrypted under a key since removed) cannot be sent by any
    retry: the delivery fails at once, alerted, instead of failing its job forever unseen."""
    admin = service.key("admin", "812")
    incident_id = submit(service, la_key)["id"]
    with service.database.session_scope() as session:
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.incident_id == incident_id)
            .values(payload_sha256="0" * 64)
        )
    service.work()
    failed = deliveries(service, admin, incident=incident_id)
    assert failed and {d["status"] for d in failed} == {"failed"}
    assert all("cannot be read" in (d["last_error"] or "") for d in failed)
    stats = service.sandbox.state.stats()["addressees"]
    assert all(entry["requests"] == 0 for entry in stats.values())
    with service.database.session_scope() as session:
        raised = session.scalars(
            select(AuditEntryRow.object_id).where(
                AuditEntryRow.action == f"alert.{alerts.DELIVERY_FAILED}"
            )
        ).all()
    assert {d["id"] for d in failed} <= set(raised)


def test_retrying_a_delivery_that_has_not_failed_is_409(service: Service, la_key: str) -> None:
    admin = service.key("admin", "812")
    submit(service, la_key)
    queued = deliveries(service, admin)[0]
    problem = assert_problem(
        service.post(f"{API}/deliveries/{queued['id']}/retry", admin, None), 409
    )
    assert "queued" in problem["detail"]
    service.work()
    assert_problem(service.post(f"{API}/deliveries/{queued['id']}/retry", admin, None), 409)


def test_retrying_an_unknown_delivery_is_404(service: Service) -> None:
    admin = service.key("admin", "*")
    assert_problem(service.post(f"{API}/deliveries/not-a-delivery/retry", admin, None), 404)


def test_only_an_admin_may_retry(service: Service, la_key: str) -> None:
    submit(service, la_key)
    service.sandbox.state.add_faults([Fault(status=400)])
    service.work()
    failed = deliveries(service, la_key, status="failed")[0]
    for role in ("local_authority", "compliance"):
        response = service.post(f"{API}/deliveries/{failed['id']}/retry", service.key(role), None)
        assert_problem(response, 403)
    assert deliveries(service, la_key, status="failed")[0]["id"] == failed["id"]
