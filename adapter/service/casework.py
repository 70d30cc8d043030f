"""Submit an incident: notify it, refer it, or recognise a resubmission (DESIGN.md §4, §7).

Roles (DESIGN.md §7, :mod:`adapter.service.roles`): only a ``local_authority`` key creates
notifications (§2 "Only local authorities can submit serious incidents to the Panel"); an
``agency`` key may only submit a referral for the safeguarding partners to consider (§3, Appendix
1 "SCSI 1"): its record carries ``referral`` (the day received, the agency), it owes the
partners' decision and a local rapid review, and nothing is sent until a ``referral_decided``
event says ``notify``. Amending is :mod:`adapter.service.amending`; recording an event,
:mod:`adapter.service.event_recording`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from marshmallow import ValidationError
from sqlalchemy.orm import Session

from adapter.clock import london_today
from adapter.deadlines import Plan
from adapter.errors import CsinsError, InvalidRecord
from adapter.service.case_changes import CaseChange
from adapter.service.replanning import (
    REFERRAL_STATUS,
    CurrentRecord,
    first_plan,
    incident_status,
    replan,
    store_first_plan,
)
from adapter.service.roles import require_submitter
from adapter.store import incident_versions, new_incidents
from adapter.store import incidents as incident_store
from adapter.store.access_models import ApiKeyRow
from adapter.store.api_keys import Principal
from adapter.store.crypto import Keyring
from adapter.store.models import (
    DeliveryRow,
    IncidentRow,
    IncidentVersionRow,
    ObligationRow,
)
from config.settings import Policy
from schemas.consistency import future_dates
from schemas.fields import flatten
from schemas.incident import IncidentRecordSchema

REFERRAL = REFERRAL_STATUS
"""Status of an incident an agency referred, not (yet) notified: the partners' to consider (§3)."""

_RECORD = IncidentRecordSchema(today=None)


class RecordConflict(CsinsError):
    """Different content under a used reference or idempotency key (the API answers 409)."""

    def __init__(self, incident: IncidentRow, detail: str) -> None:
        super().__init__(detail)
        self.incident = incident


@dataclass(frozen=True)
class Submitted:
    """What a submission did. For a created incident, ``record_json``, ``obligations`` and
    ``version`` are what was just stored (so the answer needs no reading back); empty for a
    resubmission."""

    incident: IncidentRow
    outcome: Literal["created", "identical"]
    deliveries: list[DeliveryRow]
    record_json: dict[str, Any] = field(default_factory=dict)
    obligations: list[ObligationRow] = field(default_factory=list)
    version: IncidentVersionRow | None = None


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
    inserted: tuple[new_incidents.CreateResult, Plan | None] | None = None,
) -> Submitted:
    """Store a new incident with its obligations and deliveries, or recognise a resubmission.

    ``current`` is a record validated already (by the API's schema, or by the importer that
    converted it: :func:`adapter.service.submissions.submit_batch`), in both its forms. Its
    deliveries are published once the transaction commits (:mod:`adapter.store.publishing`).
    ``inserted``: the incident was inserted already, with the plan of :func:`submission_plan`
    (a batch inserts its new incidents in one statement).
    """
    require_submitter(principal)
    if inserted is not None:
        result, plan = inserted
    else:
        plan = submission_plan(principal, current, policy)
        result = new_incidents.create_incident(
            session,
            keyring,
            la_scope=principal.la_scope,
            record=current.json,
            idempotency_key=idempotency_key,
            key_id=principal.key_id,
            status=submission_status(plan),
        )
    change = CaseChange(session, keyring, policy, principal, now)
    if result.outcome != "created":
        return _stored_before(change, result, current)
    return _created(change, result, plan, current)


def _created(
    change: CaseChange,
    result: new_incidents.CreateResult,
    plan: Plan | None,
    current: CurrentRecord,
) -> Submitted:
    """A new incident with its first plan: its obligations stored, its deliveries queued."""
    incident = result.incident
    deliveries: list[DeliveryRow] = []
    obligations: list[ObligationRow] = []
    if plan is not None:
        planned = store_first_plan(
            change.session, change.policy, incident, plan, current, change.now
        )
        deliveries = change.queue_owed(incident, planned, new=True)
        obligations = planned.obligations
    change.audit(
        "referral.created" if change.principal.role == "agency" else "incident.created",
        incident,
        {"version": 1, "deliveries": len(deliveries)},
    )  # its flush writes the version, children, obligations and deliveries with it
    return Submitted(incident, "created", deliveries, current.json, obligations, result.version)


def _stored_before(
    change: CaseChange, result: new_incidents.CreateResult, current: CurrentRecord
) -> Submitted:
    """A record whose reference (or idempotency key) is taken: an identical resubmission, the
    LA notifying what an agency referred, or a conflict."""
    existing, record_json = result.incident, current.json
    referral = change.principal.role == "agency"
    if referral and (result.outcome == "conflict" or existing.status != REFERRAL):
        # §3: an agency refers; what the LA notified under this reference is not its to see,
        # so every conflict it meets reads the same (its own referral changed, the LA's
        # notification, another agency's referral).
        raise RecordConflict(existing, _referral_refused(record_json))
    if (
        not referral
        and existing.status == REFERRAL
        and existing.reference == record_json["incident"]["reference"]
    ):
        return _notify_referral(change, existing, current)
    if result.outcome == "conflict":
        raise RecordConflict(existing, _conflict_detail(existing, record_json))
    return Submitted(existing, "identical", [])


def submission_plan(principal: Principal, current: CurrentRecord, policy: Policy) -> Plan | None:
    """The plan a new incident is stored with. It needs nothing stored, so the incident is
    inserted with the status it gives. An agency's record is planned as the referral it is
    (§3) when it carries ``referral`` (:func:`submit` sets it); one without (an agency's
    import) is stored unplanned, as referrals were before, and re-planned as a referral
    received the day it was stored (:func:`adapter.service.replanning.replan`)."""
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
    key = session.get(ApiKeyRow, principal.key_id)
    agency = (key.name if key is not None else None) or f"agency key {principal.key_id}"
    return {**data, "referral": {"received_on": today.isoformat(), "agency": agency[:200]}}


def _notify_referral(
    change: CaseChange, referral: IncidentRow, current: CurrentRecord
) -> Submitted:
    """The LA notifies what an agency referred under the same reference (§3: the partners
    consider a referral, then notify): the referral becomes the notification, with the LA's
    record as its current version, its obligations planned and its deliveries queued."""
    session, keyring, principal = change.session, change.keyring, change.principal
    incident = incident_store.lock_incident(session, principal.la_scope, referral.id)
    assert incident is not None  # found in this scope a moment ago
    if incident.status != REFERRAL:  # notified meanwhile: as any resubmission of it
        if not incident_versions.same_facts(session, keyring, incident, current.json):
            raise RecordConflict(incident, _conflict_detail(incident, current.json))
        return Submitted(incident, "identical", [])
    stored = incident_versions.add_version(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident.id,
        record=current.json,
        key_id=principal.key_id,
        reason="submitted",
    )
    assert stored is not None
    planned = replan(session, keyring, change.policy, incident, change.now, current=current)
    deliveries = change.queue_owed(incident, planned)
    change.audit(
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


def _conflict_detail(incident: IncidentRow, record_json: Mapping[str, Any]) -> str:
    reference = record_json["incident"]["reference"]
    if incident.reference != reference:
        return "this Idempotency-Key was used for another incident"
    return (
        f"incident {reference} already exists with different content: submit an "
        f"amendment to /incidents/{incident.id}/amendments instead"
    )
