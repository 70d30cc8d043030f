"""Records stored before a rule was added stay usable (DESIGN.md §4): rules added since (an age
that must agree with the date of birth, a reviewer that must not be blank, postcodes in one
form) apply to what is submitted, never to what is read back to re-plan or compare.

Each test stores a record as an earlier release could have (by rewriting the stored version),
then does through the API what an LA would do next.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from adapter.clock import LONDON
from adapter.store.incident_versions import content_sha256
from adapter.store.models import Delivery, Incident, IncidentVersion, Receipt
from adapter.store.sealing import seal_json, version_aad
from schemas.incident import IncidentRecordSchema
from tests.support.api import API, document_event, new_record, plain_event, submit
from tests.support.service import Service


def _store_as_before(service: Service, incident_id: str, record: dict[str, Any]) -> None:
    """Make ``record`` the incident's stored current version, as an earlier release wrote it."""
    database = service.database
    with database.session_scope() as session:
        incident = session.get_one(Incident, incident_id)
        version = session.get_one(IncidentVersion, (incident_id, incident.current_version))
        version.payload = seal_json(
            database.keyring, record, version_aad(incident_id, incident.current_version)
        )
        version.payload_sha256 = incident.content_sha256 = content_sha256(record)


def _stored_form(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` as the store keeps it: loaded and dumped by the schema (every field present)."""
    schema = IncidentRecordSchema(today=None)
    stored: dict[str, Any] = schema.dump(schema.load(record))
    return stored


def _with_postcode(record: dict[str, Any], postcode: str) -> dict[str, Any]:
    out = copy.deepcopy(record)
    out["incident"]["location"] = {**(out["incident"].get("location") or {}), "postcode": postcode}
    return out


def test_a_record_stored_with_a_lower_case_postcode_resubmitted_as_it_was_is_identical(
    service: Service, la_key: str
) -> None:
    """§4: resubmitting the same content is a no-op; a postcode stored as 'dn31 1hu' before
    postcodes were normalised is the same content as the 'DN31 1HU' it now loads as."""
    record = _with_postcode(new_record(), "DN31 1HU")
    incident_id = submit(service, la_key, record)["id"]
    before = _with_postcode(_stored_form(record), "dn31 1hu")
    _store_as_before(service, incident_id, before)

    again = service.post(f"{API}/incidents", la_key, before)
    assert again.status_code == 200, again.get_json()
    amended = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, before)
    assert amended.status_code == 200, amended.get_json()
    assert amended.get_json()["current_version"] == 1


def test_events_and_acknowledgements_of_a_record_stored_before_the_age_rule_go_through(
    service: Service, la_key: str
) -> None:
    """An age_years that disagrees with the date of birth is refused on submission now; one
    stored earlier must not make every re-plan fail: the rapid review is recorded, delivered,
    acknowledged and receipted, and the decision after it recorded too."""
    record = new_record(date="2026-09-01", became_aware_on="2026-09-01")
    incident_id = submit(service, la_key, record)["id"]
    before = _stored_form(record)
    before["children"][0]["age_years"] = 3  # born 2015: 11 on the incident date
    _store_as_before(service, incident_id, before)

    for event in (
        document_event("rapid_review_completed", on="2026-09-10"),
        plain_event("panel_response_received", on="2026-09-20"),
    ):
        response = service.post(f"{API}/incidents/{incident_id}/events", la_key, event)
        assert response.status_code == 201, response.get_json()
    service.work()
    with service.database.session_scope() as session:
        rapid = (
            session.query(Delivery)
            .filter_by(incident_id=incident_id, document="rapid_review")
            .one()
        )
        assert rapid.status == "acknowledged", rapid.last_error
        assert session.query(Receipt).filter_by(delivery_id=rapid.id).count() == 1


def test_a_referral_stored_before_referrals_carried_their_receipt_replans_as_one(
    service: Service, la_key: str
) -> None:
    """An agency's referral stored by an earlier release has no ``referral`` in its record:
    it is read as received the day it was stored (§3), so an event re-plans it as a referral,
    owing the partners' decision and sending nothing, and the partners can then notify it."""
    today = dt.datetime.now(LONDON).date().isoformat()
    referral = submit(service, service.key("agency", "812"))
    stored = service.get(f"{API}/incidents/{referral['id']}", la_key).get_json()["record"]
    before = {key: value for key, value in stored.items() if key != "referral"}
    _store_as_before(service, referral["id"], before)

    reviewed = service.post(
        f"{API}/incidents/{referral['id']}/events",
        la_key,
        document_event("rapid_review_completed", on=today),
    )
    assert reviewed.status_code == 201, reviewed.get_json()
    assert reviewed.get_json()["deliveries"] == []
    shown = service.get(f"{API}/incidents/{referral['id']}", la_key).get_json()
    assert shown["status"] == "referral"
    assert {(o["document"], o["addressee"]) for o in shown["obligations"]} == {
        ("referral_decision", "safeguarding_partners"),
        ("rapid_review", "safeguarding_partners"),
    }
    decided = plain_event("referral_decided", on=today, decision="notify", rationale="§1")
    notified = service.post(f"{API}/incidents/{referral['id']}/events", la_key, decided)
    assert notified.status_code == 201, notified.get_json()
    assert ("incident_notification", "panel") in {
        (d["document"], d["addressee"]) for d in notified.get_json()["deliveries"]
    }
