"""Look-alike references are one incident, notified once (§4; issue 19 item 1)."""

from __future__ import annotations

from sqlalchemy import func, select

from adapter.store.models import IncidentRow
from tests.support.api import API, assert_problem, new_record
from tests.support.service import Service


def test_look_alikes_of_a_reference_are_the_same_incident(service: Service, la_key: str) -> None:
    record = new_record()
    reference = record["incident"]["reference"]
    first = service.post(f"{API}/incidents", la_key, record)
    assert first.status_code == 201
    for look_alike in (
        reference.replace("-", "\u2010"),
        "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in reference),
    ):
        record["incident"]["reference"] = look_alike
        again = service.post(f"{API}/incidents", la_key, record)
        assert again.status_code == 200, again.get_json()
        assert again.get_json()["id"] == first.get_json()["id"]
    with service.database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1


def test_a_reference_with_a_zero_width_space_is_a_field_error(
    service: Service, la_key: str
) -> None:
    record = new_record()
    record["incident"]["reference"] = "NEL-\u200b2026-1"
    response = service.post(f"{API}/incidents", la_key, record)
    body = assert_problem(response, 422)
    assert "U+200B" in str(body), body
    assert "incident.reference" in str(body), body


def test_an_incident_stored_under_a_look_alike_can_still_be_amended(
    service: Service, la_key: str
) -> None:
    """An incident stored before references were normalised keeps its stored reference, and an
    amendment under the reference's one form is an amendment of it (not a mismatch)."""
    record = new_record()
    incident_id = service.post(f"{API}/incidents", la_key, record).get_json()["id"]
    with service.database.session_scope() as session:
        stored = session.get_one(IncidentRow, incident_id)
        stored.reference = stored.reference.replace("-", "\u2010")
    record["incident"]["summary"] = "Amended: new facts emerged."
    amended = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, record)
    assert amended.status_code == 201, amended.get_json()
