"""How stored rows are shown: incidents, obligations (with live status), deliveries, timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from adapter.service.replanning import live_status
from adapter.store import events as event_store
from adapter.store import incidents as incident_store
from adapter.store import tracker as obligation_store
from adapter.store.crypto import Keyring
from adapter.store.models import (
    DeliveryAttemptRow,
    DeliveryRow,
    IncidentRow,
    IncidentVersionRow,
    LifecycleEventRow,
    ObligationRow,
)
from config.settings import Policy


def obligation_view(row: ObligationRow, now: dt.datetime, policy: Policy) -> dict[str, Any]:
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "document": row.document,
        "addressee": row.addressee,
        "due": row.due,
        "kind": row.kind,
        "explanation": row.explanation,
        "status": live_status(row, now, policy),
        "acknowledged_at": row.acknowledged_at,
        "satisfied_at": row.satisfied_at,
    }


def delivery_view(row: DeliveryRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "document": row.document,
        "addressee": row.addressee,
        "version": row.version,
        "status": row.status,
        "attempts": row.attempts,
        "due": row.obligation.due if row.obligation else None,
        "first_attempt_at": row.first_attempt_at,
        "next_attempt_at": row.next_attempt_at,
        "acknowledged_at": row.acknowledged_at,
        "addressee_reference": row.addressee_reference,
        "last_error": row.last_error,
        "payload_sha256": row.payload_sha256,
        "channel": row.channel,
    }


def incident_deliveries(session: Session, incident: IncidentRow) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.incident_id == incident.id)
            .options(selectinload(DeliveryRow.obligation), selectinload(DeliveryRow.attempt_log))
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
        )
    )


@dataclass(frozen=True)
class Created:
    """What a submission just stored: the record and the rows of a new incident, which has no
    events and no delivery attempts yet, so that its view needs reading back nothing else."""

    record: dict[str, Any]
    obligations: list[ObligationRow]
    deliveries: list[DeliveryRow]
    version: IncidentVersionRow


def incident_view(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    incident: IncidentRow,
    now: dt.datetime,
    created: Created | None = None,
    *,
    with_record: bool = True,
) -> dict[str, Any]:
    """The whole incident as ``GET /incidents/{id}`` shows it; ``created`` when it was created
    in this transaction (see :class:`Created`). ``with_record`` False leaves out the record
    (children's personal data) for keys whose work does not need it (DESIGN.md §7)."""
    scope = incident.la_code
    if created is None:
        record = incident_store.current_record(session, keyring, incident) if with_record else None
        obligations = obligation_store.list_obligations(session, scope, incident.id)
        deliveries = incident_deliveries(session, incident)
        events = event_store.list_events(session, scope, incident.id)
        attempts = {delivery.id: list(delivery.attempt_log) for delivery in deliveries}
        versions = incident_store.list_versions(session, scope, incident.id)
    else:
        record, events, attempts = created.record, [], {}
        obligations = sorted(created.obligations, key=lambda row: (row.due, row.id))
        deliveries = sorted(created.deliveries, key=lambda row: (row.created_at, row.id))
        versions = [created.version]
    return {
        "id": incident.id,
        "local_authority_code": incident.la_code,
        "reference": incident.reference,
        "status": incident.status,
        "current_version": incident.current_version,
        "created_at": incident.created_at,
        "updated_at": incident.updated_at,
        "record": record,
        "obligations": [obligation_view(row, now, policy) for row in obligations],
        "deliveries": [delivery_view(row) for row in deliveries],
        "timeline": timeline_of(versions, events, deliveries, attempts),
    }


def timeline(
    session: Session, incident: IncidentRow, deliveries: list[DeliveryRow]
) -> list[dict[str, Any]]:
    """Versions, events, deliveries and attempts in the order they happened."""
    scope = incident.la_code
    return timeline_of(
        incident_store.list_versions(session, scope, incident.id),
        event_store.list_events(session, scope, incident.id),
        deliveries,
        {delivery.id: list(delivery.attempt_log) for delivery in deliveries},
    )


def timeline_of(
    versions: Sequence[IncidentVersionRow],
    events: Sequence[LifecycleEventRow],
    deliveries: Sequence[DeliveryRow],
    attempts: Mapping[str, Sequence[DeliveryAttemptRow]],
) -> list[dict[str, Any]]:
    """Versions, events, deliveries and their attempts in the order they happened."""
    entries: list[dict[str, Any]] = [
        {
            "at": version.created_at,
            "kind": "version",
            "summary": f"version {version.version} ({version.reason})",
        }
        for version in versions
    ]
    entries += [
        {
            "at": event.created_at,
            "kind": "event",
            "summary": f"{event.type} on {event.on.isoformat()}",
        }
        for event in events
    ]
    for delivery in deliveries:
        entries.append(
            {
                "at": delivery.created_at,
                "kind": "delivery",
                "summary": f"{delivery.document} to {delivery.addressee} queued",
            }
        )
        entries += [
            {
                "at": attempt.finished_at or attempt.started_at,
                "kind": "attempt",
                "summary": f"{delivery.document} to {delivery.addressee}: attempt {attempt.number} "
                f"{attempt.outcome or 'in progress'}"
                + (f" ({attempt.status_code})" if attempt.status_code else ""),
            }
            for attempt in attempts.get(delivery.id, ())
        ]
    return sorted(entries, key=lambda entry: entry["at"])
