"""``/api/v1/incidents``: submit, read, amend, and record lifecycle events (DESIGN.md §7)."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.bodies import (
    EVENT_BODY_PROBLEMS,
    FORM_DATA,
    JSON_BODY_PROBLEMS,
    event_body,
    idempotency_key,
    json_body,
)
from adapter.api.spec import problem_responses
from adapter.clock import utcnow
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.http.views import Created, delivery_view, incident_view, obligation_view
from adapter.service import amending, casework, event_recording
from adapter.service.case_changes import CaseChange
from adapter.store import incidents as incident_store
from adapter.store import tracker as obligation_store
from schemas.api import EventCreatedSchema, EventFormSchema, StoredIncidentSchema

blp = Blueprint(
    "incidents",
    __name__,
    url_prefix="/api/v1",
    description="Incident notifications, amendments and lifecycle events",
)

_RECORD_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IncidentRecord"}}},
}
_EVENT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Event"}},
        FORM_DATA: {"schema": EventFormSchema},
    },
}
_IDEMPOTENCY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "Makes a retried submission safe: same key and body, same answer",
}


_NOT_FOUND = (404, "No such incident visible to this key (another LA's answers the same)")


def _not_found(incident_id: str) -> ApiProblem:
    return ApiProblem(404, "not-found", f"no incident {incident_id} is visible to this key")


@blp.route("/incidents", methods=["POST"])
@blp.doc(requestBody=_RECORD_BODY, parameters=[_IDEMPOTENCY])
@problem_responses(
    *JSON_BODY_PROBLEMS,
    (400, "The Idempotency-Key is not 1-255 printable characters"),
    (403, "A record of another LA than the key's"),
    (
        409,
        "Different content under the same reference (send an amendment), or an "
        "Idempotency-Key used for another incident",
    ),
    (422, "The record failed validation: each field's problem in errors"),
)
@blp.response(201, StoredIncidentSchema, description="Created; Location names the incident")
@blp.alt_response(
    200, schema=StoredIncidentSchema, description="Identical resubmission", success=True
)
@requires("local_authority", "agency")
def create_incident() -> Any:
    """Submit an incident record: one notification per (LA code, incident reference).

    201 when created, 200 for an identical resubmission, 409 for different content under the
    same reference (send an amendment instead). Its deliveries are queued in the same transaction.
    """
    body, key = json_body(), idempotency_key()
    res, now = resources(), utcnow()
    with res.transaction() as session:
        done = casework.submit(
            session,
            res.keyring,
            res.settings.policy,
            principal(),
            body,
            now=now,
            idempotency_key=key,
        )
        created = None
        if done.outcome == "created" and done.version is not None:
            created = Created(done.record_json, done.obligations, done.deliveries, done.version)
        view = incident_view(session, res.keyring, res.settings.policy, done.incident, now, created)
    location = url_for("incidents.get_incident", incident_id=done.incident.id)
    return view, 201 if done.outcome == "created" else 200, {"Location": location}


@blp.route("/incidents/<incident_id>", methods=["GET"])
@blp.response(200, StoredIncidentSchema)
@problem_responses(_NOT_FOUND)
@requires(*READERS)
def get_incident(incident_id: str) -> Any:
    """The incident: current record (to local_authority keys), obligations with status and
    explanation, deliveries, and its timeline."""
    res, now = resources(), utcnow()
    with res.transaction() as session:
        incident = incident_store.get_incident(session, principal().la_scope, incident_id)
        if incident is None:
            raise _not_found(incident_id)
        # §7: admin works queues and retries, compliance receipts and audit; neither needs the
        # children's personal data the record holds.
        with_record = principal().role == "local_authority"
        return incident_view(
            session, res.keyring, res.settings.policy, incident, now, with_record=with_record
        )


@blp.route("/incidents/<incident_id>/amendments", methods=["POST"])
@blp.doc(requestBody=_RECORD_BODY)
@problem_responses(
    *JSON_BODY_PROBLEMS,
    _NOT_FOUND,
    (422, "The record failed validation, or changes the LA code or reference: see errors"),
)
@blp.response(201, StoredIncidentSchema, description="A new version; amendments queued")
@blp.alt_response(
    200, schema=StoredIncidentSchema, description="Same as the current version", success=True
)
@requires("local_authority")
def amend_incident(incident_id: str) -> Any:
    """§2: facts that emerge later: a new version, sent to every addressee already notified."""
    body = json_body()
    res, now = resources(), utcnow()
    with res.transaction() as session:
        change = CaseChange(session, res.keyring, res.settings.policy, principal(), now)
        done = amending.amend(change, incident_id, body)
        if done is None:
            raise _not_found(incident_id)
        incident, created, _ = done
        view = incident_view(session, res.keyring, res.settings.policy, incident, now)
    return view, 201 if created else 200


@blp.route("/incidents/<incident_id>/events", methods=["POST"])
@blp.doc(requestBody=_EVENT_BODY)
@problem_responses(
    *EVENT_BODY_PROBLEMS,
    (403, "The key's role may not record events"),
    _NOT_FOUND,
    (
        409,
        "An event the guidance's order refuses (DESIGN.md §7): out of order, before the LA "
        "became aware, recorded already, or not allowed on a referral yet",
    ),
    (422, "The event failed validation: each field's problem in errors"),
)
@blp.response(201, EventCreatedSchema)
@requires("local_authority")
def record_event(incident_id: str) -> Any:
    """Record a lifecycle event; document events carry their document (DESIGN.md §7).

    The document is either base64 content with its media type in a JSON event, or, with the
    event's fields as form fields, the file part ``document`` of a ``multipart/form-data`` body
    (its Content-Type the media type); either way its deliveries send exactly those bytes. An
    impossible event (out of order, before the incident) is refused with 409.
    """
    body = event_body()
    res, now = resources(), utcnow()
    with res.transaction() as session:
        change = CaseChange(session, res.keyring, res.settings.policy, principal(), now)
        done = event_recording.record_event(change, incident_id, body)
        if done is None:
            raise _not_found(incident_id)
        event, deliveries = done
        obligations = obligation_store.list_obligations(session, principal().la_scope, incident_id)
        view = {
            "id": event.id,
            "incident_id": incident_id,
            "type": event.type,
            "on": event.on,
            "deliveries": [delivery_view(d) for d in deliveries],
            "obligations": [obligation_view(o, now, res.settings.policy) for o in obligations],
        }
    return view
