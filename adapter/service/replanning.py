"""Re-plan one stored incident: its record and events through the rules, into the deadline table.

Run on every change (submission, amendment, event, a rapid review acknowledged), so the stored
obligations are always what the guidance says of the incident as it now stands (DESIGN.md §4-§5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.deadlines import Plan, calendar_for, deadline_status, london_date, plan_incident
from adapter.deadlines.obligations import Obligation
from adapter.errors import InvalidRecord
from adapter.store import events as event_store
from adapter.store import incidents as incident_store
from adapter.store import tracker as obligation_store
from adapter.store.crypto import Keyring
from adapter.store.models import DeliveryRow, IncidentRow, ObligationRow
from adapter.store.tracker import ObligationSpec
from config.settings import Policy
from schemas.events import EventSchema
from schemas.fields import flatten
from schemas.incident import IncidentRecordSchema

_RECORD = IncidentRecordSchema(today=None, stored=True)
_EVENT = EventSchema(stored=True)
"""Schemas reading records and events back from the store: what was valid when written stays
readable when a rule is added later (a new event or amendment is checked strictly first)."""


@dataclass(frozen=True)
class Replanned:
    """The plan and the stored obligation rows it produced, with the JSON forms used."""

    plan: Plan
    obligations: list[ObligationRow]
    record_json: dict[str, Any]
    events_json: list[dict[str, Any]]


REFERRAL_STATUS = "referral"
"""An agency's referral the partners have not decided to notify (§3)."""


def incident_status(plan: Plan) -> str:
    """The incident's status as the rules see it: a referral not notified (§3), notifiable,
    blocked or not notifiable (§4)."""
    if plan.referral_open:
        return REFERRAL_STATUS
    if plan.classification.blocked_reason:
        return "blocked"
    return "notifiable" if plan.notifiable else "not_notifiable"


def load_events(session: Session, keyring: Keyring, incident: IncidentRow) -> list[dict[str, Any]]:
    """The incident's events in their JSON form, oldest first."""
    return [
        event_store.event_data(keyring, row)
        for row in event_store.list_events(session, incident.la_code, incident.id)
    ]


def plan_stored(
    record_json: Mapping[str, Any],
    events_json: Sequence[Mapping[str, Any]],
    policy: Policy,
    rapid_review_delivered_on: dt.date | None = None,
    *,
    record: Mapping[str, Any] | None = None,
    recorded: int | None = None,
    today: dt.date | None = None,
) -> Plan:
    """The plan of a record and events in JSON form (as stored), validated again on the way;
    ``record`` is the record already loaded from ``record_json``, when the caller has it.

    ``recorded``: how many of ``events_json`` (the first ones) are stored already, all of them
    by default. A stored event stays recorded whatever an amendment says (DESIGN.md §4): only
    an event about to be recorded can be refused for what the record says. ``today`` (London)
    adds what the passing of time makes owed (see :func:`plan_incident`).
    """
    try:
        loaded = _RECORD.load(record_json) if record is None else record
        events = [_EVENT.load(event) for event in events_json]
    except ValidationError as error:  # a stored row no longer readable: one incident's problem
        raise InvalidRecord(flatten(error.messages_dict)) from None
    return plan_incident(
        loaded,
        events,
        policy,
        rapid_review_delivered_on=rapid_review_delivered_on,
        recorded=len(events_json) if recorded is None else recorded,
        today=today,
    )


@dataclass(frozen=True)
class CurrentRecord:
    """The incident's current record as a use case just validated and stored it: its JSON form
    and its loaded form, so that re-planning neither reads it back nor validates it again."""

    json: dict[str, Any]
    loaded: Mapping[str, Any]


def first_plan(current: CurrentRecord, policy: Policy) -> Plan:
    """The plan of a record being submitted: no events, nothing delivered (no database read)."""
    return plan_stored(current.json, [], policy, record=current.loaded)


def store_first_plan(
    session: Session,
    policy: Policy,
    incident: IncidentRow,
    plan: Plan,
    current: CurrentRecord,
    now: dt.datetime,
) -> Replanned:
    """Add the obligations of :func:`first_plan` for an incident created in this transaction
    (its status was set from the same plan when it was inserted)."""
    rows = obligation_store.add_first_obligations(
        session,
        (
            obligation_store.new_obligation(
                incident,
                _spec(owed),
                status=owed.status(now, policy),
                satisfied_at=_satisfied_at(owed),
            )
            for owed in plan.obligations
        ),
    )
    return Replanned(plan, rows, current.json, [])


def replan(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    incident: IncidentRow,
    now: dt.datetime,
    *,
    extra_event: Mapping[str, Any] | None = None,
    current: CurrentRecord | None = None,
) -> Replanned:
    """Recompute and store the incident's obligations (with statuses at ``now``) and status.

    ``extra_event`` is an event about to be recorded: planning with it first means an impossible
    event raises ``EventRefused`` before anything is written; the events already stored are
    kept, whatever an amendment says of them (an amendment is always stored and sent). ``current``
    is the record just stored, which spares reading it back.
    """
    record_json = (
        _as_stored_referral(incident, incident_store.current_record(session, keyring, incident))
        if current is None
        else current.json
    )
    events_json = load_events(session, keyring, incident)
    recorded = len(events_json)
    if extra_event is not None:
        events_json.append(dict(extra_event))
    plan = plan_stored(
        record_json,
        events_json,
        policy,
        _rapid_review_delivered_on(session, incident),
        record=None if current is None else current.loaded,
        recorded=recorded,
        today=london_date(now),  # what time alone makes owed: a delay notice past the limit
    )
    rows = (
        obligation_store.replace_obligations(
            session,
            la_scope=incident.la_code,
            incident_id=incident.id,
            obligations=[_spec(owed) for owed in plan.obligations],
        )
        or []
    )
    by_key = {(owed.document, owed.addressee): owed for owed in plan.obligations}
    for row in rows:
        owed = by_key.get((row.document, row.addressee))
        if owed is not None:
            row.status = status_of(owed, row, now, policy)
            if row.satisfied_at is None:
                row.satisfied_at = _satisfied_at(owed)
    incident.status, incident.updated_at = incident_status(plan), utcnow()  # in the session
    return Replanned(plan, rows, record_json, events_json)


def _as_stored_referral(incident: IncidentRow, record_json: dict[str, Any]) -> dict[str, Any]:
    """An agency's referral stored by an earlier release, before referrals carried
    ``referral`` in their record, read as one: received the day it was stored (London), so it
    re-plans as a referral (§3) and never as a notification the partners did not decide."""
    if incident.status != REFERRAL_STATUS or record_json.get("referral"):
        return record_json
    received = london_date(incident.created_at).isoformat()
    return {**record_json, "referral": {"received_on": received, "agency": None}}


def status_of(owed: Obligation, row: ObligationRow, now: dt.datetime, policy: Policy) -> str:
    """The deadline status of a stored obligation at ``now`` (its acknowledgement from the row)."""
    if row.acknowledged_at is not None:
        owed = owed.acknowledged(row.acknowledged_at)
    return owed.status(now, policy)


def live_status(row: ObligationRow, now: dt.datetime, policy: Policy) -> str:
    """A stored deadline's status at ``now`` (DESIGN.md §5): exact at any moment, whereas the
    stored ``status`` is what the deadline job last recorded."""
    return deadline_status(
        row.due,
        now,
        row.acknowledged_at,
        satisfied_at=row.satisfied_at,
        calendar=calendar_for(policy),
        due_soon_working_days=policy.due_soon_working_days,
    )


def _satisfied_at(owed: Obligation) -> dt.datetime | None:
    """Midnight UTC of the day the plan says the obligation was satisfied, if it was."""
    if owed.satisfied_on is None:
        return None
    return dt.datetime.combine(owed.satisfied_on, dt.time(), dt.UTC)


def _spec(owed: Obligation) -> ObligationSpec:
    return ObligationSpec(
        document=owed.document,
        addressee=owed.addressee,
        due=owed.due,
        kind=owed.kind,
        explanation=owed.explanation,
        trigger=owed.trigger,
    )


def _rapid_review_delivered_on(session: Session, incident: IncidentRow) -> dt.date | None:
    """§3: the Panel's 15 working days run from the day it received the rapid review."""
    acknowledged = session.scalars(
        select(DeliveryRow.acknowledged_at)
        .where(
            DeliveryRow.incident_id == incident.id,
            DeliveryRow.document == "rapid_review",
            DeliveryRow.addressee == "panel",
            DeliveryRow.acknowledged_at.is_not(None),
        )
        .order_by(DeliveryRow.acknowledged_at)
        .limit(1)
    ).first()
    return None if acknowledged is None else london_date(acknowledged)
