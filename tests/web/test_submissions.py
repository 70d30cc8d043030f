"""Submissions to make (DESIGN.md §6): the csins channel's tasks, the notification laid out as
the online service asks, and the form recording the submission."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from tests.support.api import new_record, submit
from tests.support.service import Service
from tests.web.conftest import csrf_token, sign_in


def signed_in(service: Service, role: str = "admin", la: str = "812") -> Any:
    client = service.app.test_client()
    assert sign_in(client, service.key(role, la)).status_code == 302
    return client


def many_children() -> dict[str, Any]:
    """A record with six children: the form takes four, the rest go into further information."""
    record = new_record()
    first = record["children"][0]
    record["children"] = [
        {**first, "local_id": f"C-{n}", "forenames": f"Child{n}"} for n in range(1, 7)
    ]
    return record


def tasks(service: Service, incident_id: str) -> dict[str, list[DeliveryRow]]:
    with service.database.session_scope() as session:
        rows = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.incident_id == incident_id)
            .order_by(DeliveryRow.addressee)
        ).all()
        session.expunge_all()
    found: dict[str, list[DeliveryRow]] = {}
    for row in rows:
        found.setdefault(row.document, []).append(row)
    return found


def test_the_list_shows_open_tasks_by_due_date_with_their_status(assisted: Service):
    incident = submit(assisted, assisted.key(), new_record())
    assisted.work()
    page = signed_in(assisted, "compliance").get("/admin/submissions")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Submissions to make" in html
    assert incident["reference"] in html
    assert "Looked after child death notification" in html
    assert "Secretary of State for Education" in html
    assert "govuk-tag" in html
    # A compliance officer sees the list but cannot open a child's details.
    row = tasks(assisted, incident["id"])["incident_notification"][0]
    assert signed_in(assisted, "compliance").get(f"/admin/submissions/{row.id}").status_code == 403


def test_the_task_page_lays_out_four_children_and_the_rest_as_further_information(
    assisted: Service,
):
    incident = submit(assisted, assisted.key(), many_children())
    assisted.work()
    row = tasks(assisted, incident["id"])["incident_notification"][0]
    page = signed_in(assisted).get(f"/admin/submissions/{row.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for title in ("Local authority", "The incident", "Child 1", "Child 4", "Further information"):
        assert f">{title}</h2>" in html
    assert ">Child 5</h2>" not in html
    assert "Child 5: local_id: C-5" in html and "Child 6: local_id: C-6" in html
    assert 'data-app-copy="answer-incident-reference"' in html
    assert "Identity known" not in html
    assert html.index("answer-child1-forenames") < html.index("answer-child1-date_of_birth")
    assert "submission-print.css" in html and 'media="print"' in html
    with assisted.database.session_scope() as session:
        assert session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "submission.viewed")
        ).first()


def test_recording_the_submission_delivers_every_copy_with_receipts(assisted: Service):
    incident = submit(assisted, assisted.key(), new_record())
    assisted.work()
    copies = tasks(assisted, incident["id"])["looked_after_child_death_notification"]
    client = signed_in(assisted)
    path = f"/admin/submissions/{copies[0].id}"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "reference": "CSINS-77",
            "submitted_by": "Sam Patel",
            "submitted_on": "2026-11-27",
            "submitted_time": "09:15",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    after = tasks(assisted, incident["id"])["looked_after_child_death_notification"]
    assert {row.status for row in after} == {"acknowledged"}
    assert {row.addressee_reference for row in after} == {"CSINS-77"}
    with assisted.database.session_scope() as session:
        receipts = session.scalars(select(ReceiptRow)).all()
        assert sorted(r.delivery_id for r in receipts) == sorted(c.id for c in copies)
        audit = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == "submission.recorded")
        ).one()
        assert audit.detail and audit.detail["via"] == "admin pages"
    listing = client.get("/admin/submissions").get_data(as_text=True)
    assert "Looked after child death notification" not in listing


def test_a_form_without_a_reference_is_refused_naming_the_field(assisted: Service):
    incident = submit(assisted, assisted.key(), new_record())
    assisted.work()
    row = tasks(assisted, incident["id"])["incident_notification"][0]
    client = signed_in(assisted)
    path = f"/admin/submissions/{row.id}"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "reference": "",
            "submitted_by": "Sam Patel",
            "submitted_on": "2026-11-27",
            "submitted_time": "25:00",
        },
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter the confirmation reference" in html
    assert "Enter the date as YYYY-MM-DD" in html
    assert tasks(assisted, incident["id"])["incident_notification"][0].status == "queued"
