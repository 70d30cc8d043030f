"""The use cases: submit an incident, amend it, record a lifecycle event (DESIGN.md §4, §7).

Roles (DESIGN.md §7): only a ``local_authority`` key creates notifications (§2 "Only local
authorities can submit serious incidents to the Panel"); an ``agency`` key may only submit a
referral for the safeguarding partners to consider (§3, Appendix 1 "SCSI 1"): its record carries
``referral`` (the day received, the agency), it owes the partners' decision and a local rapid
review, and nothing is sent until a ``referral_decided`` event says ``notify``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.apikeys import Principal
from adapter.clock import london_today
from adapter.crypto import Keyring
from adapter.deadlines import Plan
from adapter.errors import CsinsError, InvalidRecord
from adapter.service import outbox as owed_deliveries
from adapter.service.planning import (
    REFERRAL_STATUS,
    CurrentRecord,
    Replanned,
    first_plan,
    incident_status,
    replan,
    status_of,
    store_first_plan,
)
from adapter.store import audit as audit_log
from adapter.store import events as event_store
from adapter.store import incidents as incident_store
from adapter.store.models import (
    ApiKey,
    Delivery,
    Incident,
    IncidentVersion,
    LifecycleEvent,
    Obligation,
)
from adapter.store.scope import scoped
from config.settings import Policy
from schemas.consistency import future_dates
from schemas.events import EventSchema, carries_document
from schemas.fields import flatten
from schemas.incident import IncidentRecordSchema

REFERRAL = REFERRAL_STATUS
"""Status of an incident an agency referred, not (yet) notified: the partners' to consider (§3)."""

FURTHER_INFORMATION = "further_information"
"""§5: what the Panel asks for, and what the partners send it."""

_RECORD = IncidentRecordSchema(today=None)
_EVENT = EventSchema()


class NotAllowed(CsinsError):
    """The caller's role may not do this (the API answers 403)."""


class RecordConflict(CsinsError):
    """Different content under a used reference or idempotency key (the API answers 409)."""

    def __init__(self, incident: Incident, detail: str) -> None:
        super().__init__(detail)
        self.incident = incident


@dataclass(frozen=True)
class Submitted:
    """What a submission did. For a created incident, ``record_json``, ``obligations`` and
    ``version`` are what was just stored (so the answer needs no reading back); empty for a
    resubmission."""

    incident: Incident
    outcome: Literal["created", "identical"]
    deliveries: list[Delivery]
    record_json: dict[str, Any] = field(default_factory=dict)
    obligations: list[Obligation] = field(default_factory=list)
    version: IncidentVersion | None = None


def validate_record(data: Any, today: dt.date) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record loaded (dates as dates) and in JSON form; every problem at once if invalid.

    No date a record states as fact (``became_aware_on``, a death, a born child's birth) may be
    after ``today`` when it is submitted (DESIGN.md §3; :func:`schemas.consistency.future_dates`).
    """
    if not isinstance(data, Mapping):
        raise InvalidRecord([("_schema", "expected a JSON object: an incident record")])
    try:
        loaded: dict[str, Any] = _RECORD.load(data)
    except ValidationError as error:
        raise InvalidRecord(flatten(error.messages)) from None
    future = future_dates(loaded, today)
    if future:
        raise InvalidRecord(future)
    return loaded, _RECORD.dump(loaded)


def submit(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    data: Any,
    *,
    now: dt.datetime,
    idempotency_key: str | None = None,
) -> Submitted:
    """Validate ``data`` and :func:`submit_valid` it."""
    require_submitter(principal)
    if principal.role == "agency":
        data = _as_referral(session, principal, data, london_today(now))
    loaded, record_json = validate_record(data, london_today(now))
    return submit_valid(
        session,
        keyring,
        policy,
        principal,
        CurrentRecord(record_json, loaded),
        now=now,
        idempotency_key=idempotency_key,
    )


def submit_valid(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    current: CurrentRecord,
    *,
    now: dt.datetime,
    idempotency_key: str | None = None,
    inserted: tuple[incident_store.CreateResult, Plan | None] | None = None,
) -> Submitted:
    """Store a new incident with its obligations and deliveries, or recognise a resubmission.

    ``current`` is a record validated already (by the API's schema, or by the importer that
    converted it: :func:`adapter.service.submissions.submit_batch`), in both its forms. Its
    deliveries are published once the transaction commits (:mod:`adapter.store.publishing`).
    ``inserted``: the incident was inserted already, with the plan of :func:`submission_plan`
    (a batch inserts its new incidents in one statement).
    """
    require_submitter(principal)
    record_json = current.json
    referral = principal.role == "agency"
    if inserted is not None:
        result, plan = inserted
    else:
        plan = submission_plan(principal, current, policy)
        result = incident_store.create_incident(
            session,
            keyring,
            la_scope=principal.la_scope,
            record=record_json,
            idempotency_key=idempotency_key,
            key_id=principal.key_id,
            status=submission_status(plan),
        )
    existing = result.incident
    if referral and (
        result.outcome == "conflict"
        or (result.outcome != "created" and existing.status != REFERRAL)
    ):
        # §3: an agency refers; what the LA notified under this reference is not its to see,
        # so every conflict it meets reads the same (its own referral changed, the LA's
        # notification, another agency's referral).
        raise RecordConflict(existing, _referral_refused(record_json))
    if (
        result.outcome != "created"
        and not referral
        and existing.status == REFERRAL
        and existing.reference == record_json["incident"]["reference"]
    ):
        return _notify_referral(session, keyring, policy, principal, existing, current, now)
    if result.outcome == "conflict":
        raise RecordConflict(existing, _conflict_detail(existing, record_json))
    if result.outcome == "identical":
        return Submitted(existing, "identical", [])
    incident = existing
    deliveries: list[Delivery] = []
    obligations: list[Obligation] = []
    if plan is not None:
        planned = store_first_plan(session, policy, incident, plan, current, now)
        deliveries = _queue_owed(
            session, keyring, incident, planned, now=now, policy=policy, new=True
        )
        obligations = planned.obligations
    _audit(
        session,
        principal,
        "referral.created" if referral else "incident.created",
        incident,
        {"version": 1, "deliveries": len(deliveries)},
    )  # its flush writes the version, children, obligations and deliveries with it
    return Submitted(incident, "created", deliveries, record_json, obligations, result.version)


def submission_plan(principal: Principal, current: CurrentRecord, policy: Policy) -> Plan | None:
    """The plan a new incident is stored with. It needs nothing stored, so the incident is
    inserted with the status it gives. An agency's record is planned as the referral it is
    (§3) when it carries ``referral`` (:func:`submit` sets it); one without (an agency's
    import) is stored unplanned, as referrals were before, and re-planned as a referral
    received the day it was stored (:func:`adapter.service.planning.replan`)."""
    if principal.role == "agency" and not current.json.get("referral"):
        return None
    return first_plan(current, policy)


def submission_status(plan: Plan | None) -> str:
    """The status a new incident is inserted with, from :func:`submission_plan`."""
    return REFERRAL if plan is None else incident_status(plan)


def _as_referral(session: Session, principal: Principal, data: Any, today: dt.date) -> Any:
    """An agency's record as a referral (DESIGN.md §4): received today, from the agency the
    key names. Whatever ``referral`` the agency sent is replaced: the service knows both."""
    if not isinstance(data, Mapping):
        return data  # refused by validation, with its message
    key = session.get(ApiKey, principal.key_id)
    agency = (key.name if key is not None else None) or f"agency key {principal.key_id}"
    return {**data, "referral": {"received_on": today.isoformat(), "agency": agency[:200]}}


def _notify_referral(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    referral: Incident,
    current: CurrentRecord,
    now: dt.datetime,
) -> Submitted:
    """The LA notifies what an agency referred under the same reference (§3: the partners
    consider a referral, then notify): the referral becomes the notification, with the LA's
    record as its current version, its obligations planned and its deliveries queued."""
    incident = _locked_incident(session, principal.la_scope, referral.id)
    assert incident is not None  # found in this scope a moment ago
    if incident.status != REFERRAL:  # notified meanwhile: as any resubmission of it
        if not incident_store.same_facts(session, keyring, incident, current.json):
            raise RecordConflict(incident, _conflict_detail(incident, current.json))
        return Submitted(incident, "identical", [])
    stored = incident_store.add_version(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident.id,
        record=current.json,
        key_id=principal.key_id,
        reason="submitted",
    )
    assert stored is not None
    planned = replan(session, keyring, policy, incident, now, current=current)
    deliveries = _queue_owed(session, keyring, incident, planned, now=now, policy=policy)
    _audit(
        session,
        principal,
        "referral.notified",
        incident,
        {"version": incident.current_version, "deliveries": len(deliveries)},
    )
    return Submitted(
        incident, "created", deliveries, current.json, planned.obligations, stored.version
    )


def _referral_refused(record_json: Mapping[str, Any]) -> str:
    """What an agency is told when its referral's reference (or key) is in use: the same
    words whoever uses it and whatever was sent, so that it learns nothing of the incident."""
    return (
        f"incident reference {record_json['incident']['reference']} (or this Idempotency-Key) "
        "is already in use, so this referral was not recorded: if it is another incident, give "
        "it its own reference; to add to a referral already made, contact the local authority"
    )


def _conflict_detail(incident: Incident, record_json: Mapping[str, Any]) -> str:
    reference = record_json["incident"]["reference"]
    if incident.reference != reference:
        return "this Idempotency-Key was used for another incident"
    return (
        f"incident {reference} already exists with different content: submit an "
        f"amendment to /incidents/{incident.id}/amendments instead"
    )


def amend(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    incident_id: str,
    data: Any,
    *,
    now: dt.datetime,
) -> tuple[Incident, bool, list[Delivery]] | None:
    """§2: a new version of the record; amendments go to every addressee already notified.

    None when the incident is not visible to the caller. The boolean says whether a version was
    created (False when the content equals the current version).
    """
    _require_local_authority(principal, "amend incidents")
    loaded, record_json = validate_record(data, london_today(now))
    # add_version reads the incident under a row lock: it must be the first to load it in this
    # session, or a concurrent amendment's version would not be seen (the identity map keeps
    # what was read before the lock).
    result = incident_store.add_version(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident_id,
        record=record_json,
        key_id=principal.key_id,
    )
    if result is None:
        return None
    incident = result.incident
    if not result.created:
        return incident, False, []
    previous = incident.current_version - 1
    deliveries: list[Delivery] = []
    if incident.status != REFERRAL:
        deliveries = owed_deliveries.queue_amendments(
            session, keyring, incident, record_json, amended_from=previous
        )
        current = CurrentRecord(record_json, loaded)
        planned = replan(session, keyring, policy, incident, now, current=current)
        deliveries += _queue_owed(session, keyring, incident, planned, now=now, policy=policy)
    _audit(
        session,
        principal,
        "incident.amended",
        incident,
        {"version": incident.current_version, "deliveries": len(deliveries)},
    )
    return incident, True, deliveries


def record_event(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    incident_id: str,
    data: Any,
    *,
    now: dt.datetime,
) -> tuple[LifecycleEvent, list[Delivery]] | None:
    """Record a lifecycle event; it adds, satisfies or changes obligations (DESIGN.md §5).

    An impossible event (out of order, before the incident) raises ``EventRefused`` and nothing
    is written. Events that produce a document must carry it (DESIGN.md §7).
    """
    _require_local_authority(principal, "record events")
    if not isinstance(data, Mapping):
        raise InvalidRecord([("_schema", "expected a JSON object: a lifecycle event")])
    try:
        loaded = _EVENT.load(data)
    except ValidationError as error:
        raise InvalidRecord(flatten(error.messages)) from None
    if carries_document(loaded) and not loaded.get("document"):
        raise InvalidRecord(
            [
                (
                    "document",
                    f"required: a '{loaded['type']}' event carries the "
                    "document it produced (DESIGN.md §7)",
                )
            ]
        )
    if loaded.get("document") and not _is_base64(loaded["document"]["content_base64"]):
        raise InvalidRecord([("document.content_base64", "not valid base64")])
    if loaded["on"] > london_today(now):
        raise InvalidRecord([("on", f"{loaded['on'].isoformat()} is in the future")])
    incident = _locked_incident(session, principal.la_scope, incident_id)
    if incident is None:
        return None
    event_json = _EVENT.dump(loaded)
    planned = replan(session, keyring, policy, incident, now, extra_event=event_json)
    row = event_store.add_event(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident.id,
        event=event_json,
        key_id=principal.key_id,
    )
    assert row is not None  # the incident was found in this scope a moment ago
    deliveries = _queue_owed(session, keyring, incident, planned, now=now, policy=policy)
    if loaded["type"] == "further_information_sent" and not any(
        d.document == FURTHER_INFORMATION for d in deliveries
    ):
        # §5: sent without a request (or after it was answered), it owes nothing, and the
        # Panel still receives it.
        deliveries.append(owed_deliveries.queue_unrequested(session, keyring, incident, event_json))
    _audit(
        session,
        principal,
        "event.recorded",
        incident,
        {"type": loaded["type"], "deliveries": len(deliveries)},
    )
    return row, deliveries


def _queue_owed(
    session: Session,
    keyring: Keyring,
    incident: Incident,
    planned: Replanned,
    *,
    now: dt.datetime,
    policy: Policy,
    new: bool = False,
) -> list[Delivery]:
    """The deliveries the incident's new plan calls for and does not have yet (``new``: the
    incident was created in this transaction, so it has none). An obligation a new document
    is queued for may be owed afresh (a changed decision): its status is reckoned again."""
    owed = {(o.document, o.addressee): o for o in planned.plan.obligations}
    queued = owed_deliveries.queue_owed(
        session,
        keyring,
        incident,
        # Only what the plan owes now: a row kept because it was met (a final report before
        # the mode changed to improvements only) is history, not something to send again.
        [row for row in planned.obligations if (row.document, row.addressee) in owed],
        planned.record_json,
        planned.events_json,
        new=new,
    )
    if new:
        return queued
    for delivery in queued:
        row = delivery.obligation
        if row is not None and (row.document, row.addressee) in owed:
            row.status = status_of(owed[(row.document, row.addressee)], row, now, policy)
    return queued


def _locked_incident(session: Session, la_scope: str, incident_id: str) -> Incident | None:
    """The incident, its row locked until the transaction ends (PostgreSQL; SQLite transactions
    are serialised already), re-read under the lock: concurrent events and amendments of one
    incident, and a worker's re-plan after an acknowledgement, then run one after the other,
    never each without the other's change.

    ``FOR NO KEY UPDATE``, as the worker takes it: rows that merely refer to the incident (a
    worker's receipt) can still be inserted meanwhile.
    """
    statement = scoped(
        select(Incident).where(Incident.id == incident_id), Incident.la_code, la_scope
    )
    return session.scalars(
        statement.with_for_update(key_share=True).execution_options(populate_existing=True)
    ).one_or_none()


def require_submitter(principal: Principal) -> None:
    """Only LA keys notify; agency keys refer (§2, §3); admin and compliance keys do neither."""
    if principal.role not in ("local_authority", "agency"):
        raise NotAllowed(f"a '{principal.role}' key cannot submit incidents")


def _is_base64(content: str) -> bool:
    """Whether ``content`` decodes as the store decodes a document (strict base64)."""
    try:
        base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _require_local_authority(principal: Principal, action: str) -> None:
    if principal.role != "local_authority":
        raise NotAllowed(f"only a local_authority key may {action}")


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    incident: Incident,
    detail: Mapping[str, Any],
) -> None:
    audit_log.audit_by(
        session,
        principal,
        action,
        la_code=incident.la_code,
        object_type="incident",
        object_id=incident.id,
        detail=detail,
    )
