"""Assisted submissions through the API (DESIGN.md §6): notifications routed to ``csins`` wait
for a person, and ``POST /deliveries/{id}/confirmation`` records the submission they made."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from adapter.receipts import SignedReceipt, verify_receipt
from adapter.service.assisted import Confirmation, check_confirmation
from adapter.store.access_models import AuditEntryRow
from adapter.store.assisted import open_tasks, open_tasks_per_addressee
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from tests.support.api import API, OTHER_LA, assert_problem, submit
from tests.support.clock import NOW
from tests.support.service import Service

SUBMITTED_AT = (NOW - dt.timedelta(minutes=20)).isoformat()


def confirmation(**overrides: Any) -> dict[str, Any]:
    return {
        "reference": "CSINS-2026-000123",
        "submitted_by": "Sam Patel, Head of Safeguarding",
        "submitted_at": SUBMITTED_AT,
        **overrides,
    }


def handed_over(service: Service, key: str) -> dict[str, Any]:
    """Submit a looked-after child's death and run the worker: every delivery is a task."""
    incident = submit(service, key)
    service.work()
    return incident


def by_document(service: Service, incident_id: str) -> dict[str, list[DeliveryRow]]:
    with service.database.session_scope() as session:
        rows = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.incident_id == incident_id)
            .order_by(DeliveryRow.addressee)
        ).all()
        session.expunge_all()
    grouped: dict[str, list[DeliveryRow]] = {}
    for row in rows:
        grouped.setdefault(row.document, []).append(row)
    return grouped


def test_a_notification_routed_to_csins_waits_for_a_person(assisted: Service, la_key: str):
    incident = handed_over(assisted, la_key)
    documents = by_document(assisted, incident["id"])
    assert set(documents) == {"incident_notification", "looked_after_child_death_notification"}
    for rows in documents.values():
        for row in rows:
            assert (row.channel, row.status, row.next_attempt_at) == ("csins", "queued", None)
            assert row.attempts == 1
    assert assisted.sandbox.state.stats()["addressees"]["panel"]["requests"] == 0
    with assisted.database.session_scope() as session:
        tasks = {
            t.document: [d.addressee for d in t.deliveries] for t in open_tasks(session, "812")
        }
        assert tasks == {
            document: [row.addressee for row in rows] for document, rows in documents.items()
        }
        per_addressee: dict[str, int] = {}
        for rows in documents.values():
            for row in rows:
                per_addressee[row.addressee] = per_addressee.get(row.addressee, 0) + 1
        assert open_tasks_per_addressee(session) == per_addressee
        assert open_tasks_per_addressee(session, "812") == per_addressee
        assert open_tasks_per_addressee(session, OTHER_LA) == {}
    assisted.work()  # a second run of the worker sends nothing: the task is a person's
    assert all(
        row.attempts == 1 for rows in by_document(assisted, incident["id"]).values() for row in rows
    )


def test_one_confirmation_acknowledges_every_copy_with_a_receipt_naming_the_person(
    assisted: Service, la_key: str
):
    incident = handed_over(assisted, la_key)
    copies = by_document(assisted, incident["id"])["looked_after_child_death_notification"]
    admin = assisted.key("admin")
    response = assisted.post(f"{API}/deliveries/{copies[0].id}/confirmation", admin, confirmation())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["reference"] == "CSINS-2026-000123"
    assert sorted(d["id"] for d in body["deliveries"]) == sorted(c.id for c in copies)
    assert {d["status"] for d in body["deliveries"]} == {"acknowledged"}

    signer = assisted.app.extensions["csins"].signer()
    with assisted.database.session_scope() as session:
        receipts = session.scalars(
            select(ReceiptRow).where(ReceiptRow.delivery_id.in_([c.id for c in copies]))
        ).all()
        assert len(receipts) == len(copies) == 2
        for row in receipts:
            content = verify_receipt(SignedReceipt.from_jws(row.jws), signer.public_keys).content
            assert content["version"] == "3"
            assert content["channel"] == "csins"
            assert content["acknowledged_by"] == "person"
            assert content["confirmed_by"] == "Sam Patel, Head of Safeguarding"
            assert content["addressee_reference"] == "CSINS-2026-000123"
            assert content["acknowledged_at"] == "2026-11-27T09:40:00Z"
            assert "Sam Patel" in content["acknowledgement"]
            assert content["on_time"] is True
        audit = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "submission.recorded")
        ).one()
        assert audit.detail is not None
        assert sorted(audit.detail["deliveries"]) == sorted(c.id for c in copies)
        assert audit.detail["via"] == "api"
    # The other notification's task is still open: one submission is one document.
    others = by_document(assisted, incident["id"])["incident_notification"]
    assert {row.status for row in others} == {"queued"}


def test_the_same_confirmation_twice_is_a_no_op_and_another_a_conflict(
    assisted: Service, la_key: str
):
    incident = handed_over(assisted, la_key)
    panel = by_document(assisted, incident["id"])["incident_notification"][0]
    admin = assisted.key("admin")
    path = f"{API}/deliveries/{panel.id}/confirmation"
    assert assisted.post(path, admin, confirmation()).status_code == 201
    again = assisted.post(path, admin, confirmation())
    assert again.status_code == 200
    assert again.get_json()["deliveries"][0]["id"] == panel.id
    other = assert_problem(assisted.post(path, admin, confirmation(reference="CSINS-9")), 409)
    assert "CSINS-2026-000123" in other["detail"]
    with assisted.database.session_scope() as session:
        assert len(session.scalars(select(ReceiptRow)).all()) == 1


def test_confirmation_needs_an_admin_of_the_delivery_s_own_la(assisted: Service, la_key: str):
    incident = handed_over(assisted, la_key)
    panel = by_document(assisted, incident["id"])["incident_notification"][0]
    path = f"{API}/deliveries/{panel.id}/confirmation"
    assert_problem(assisted.post(path, la_key, confirmation()), 403)
    assert_problem(assisted.post(path, assisted.key("admin", OTHER_LA), confirmation()), 404)


def test_a_bad_confirmation_names_the_field(assisted: Service, la_key: str):
    incident = handed_over(assisted, la_key)
    panel = by_document(assisted, incident["id"])["incident_notification"][0]
    path = f"{API}/deliveries/{panel.id}/confirmation"
    admin = assisted.key("admin")
    future = (NOW + dt.timedelta(hours=2)).isoformat()
    body = assert_problem(assisted.post(path, admin, confirmation(submitted_at=future)), 422)
    assert "submitted_at" in str(body)
    body = assert_problem(assisted.post(path, admin, confirmation(reference="")), 422)
    assert "reference" in str(body)


def test_a_delivery_sent_by_a_channel_is_no_submission_to_make(service: Service, la_key: str):
    incident = submit(service, la_key)
    service.work()
    delivery = incident["deliveries"][0]
    body = assert_problem(
        service.post(
            f"{API}/deliveries/{delivery['id']}/confirmation", service.key("admin"), confirmation()
        ),
        409,
    )
    assert "sandbox" in body["detail"]


def test_an_open_task_near_its_deadline_is_alerted_naming_it(assisted: Service, la_key: str):
    """§6: an open task counts against the deadline like any delivery: due_soon and overdue
    alerts name it (the suite's today is two working days before the notification is due)."""
    from jobs.maintenance import check_deadlines

    incident = handed_over(assisted, la_key)
    open_ids = {row.id for rows in by_document(assisted, incident["id"]).values() for row in rows}
    check_deadlines()
    with assisted.database.session_scope() as session:
        alerted = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action.like("alert.deadline_%"))
        ).all()
        named = {entry.detail["submission_to_make"] for entry in alerted if entry.detail}
    assert alerted
    assert named and named <= open_ids


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, None),
        ({"reference": " "}, "reference"),
        ({"reference": "X" * 101}, "reference"),
        ({"reference": "CSINS-1\n"}, "reference"),
        ({"submitted_by": ""}, "submitted_by"),
        ({"submitted_by": "Sam\x07"}, "submitted_by"),
        ({"submitted_at": NOW.replace(tzinfo=None)}, "submitted_at"),
        ({"submitted_at": NOW + dt.timedelta(minutes=4)}, None),
        ({"submitted_at": NOW + dt.timedelta(minutes=6)}, "submitted_at"),
    ],
)
def test_a_confirmation_is_checked_field_by_field(changes: dict[str, Any], field: str | None):
    values: dict[str, Any] = {
        "reference": "CSINS-1",
        "submitted_by": "Sam Patel",
        "submitted_at": NOW - dt.timedelta(hours=1),
        **changes,
    }
    problems = check_confirmation(Confirmation(**values), NOW)
    assert [name for name, _ in problems] == ([] if field is None else [field])
