"""Lifecycle events of an incident (DESIGN.md §7), stored encrypted with any document they carry.

An event's fields may name people (a reviewer) and its document is a rapid review or report, so
the whole event is sealed; only its type, date and the document's SHA-256 are in the clear.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.store.crypto import Keyring
from adapter.store.incidents import get_incident
from adapter.store.models import IncidentRow, LifecycleEventRow
from adapter.store.scope import scoped
from adapter.store.sealing import as_mapping, event_aad, open_json, seal_json


def add_event(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    incident_id: str,
    event: Mapping[str, Any],
    key_id: int | None = None,
) -> LifecycleEventRow | None:
    """Record a validated event (``{"type", "on", ...}``); None when the incident is out of scope.

    A document's ``content_base64`` is hashed as decoded bytes: the hash the receipts will carry.
    """
    incident = get_incident(session, la_scope, incident_id)
    if incident is None:
        return None
    row = LifecycleEventRow(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        type=str(event["type"]),
        on=_as_date(event["on"]),
        document_sha256=_document_sha256(event),
        created_by_key_id=key_id,
    )
    row.data = seal_json(keyring, event, event_aad(row.id, row.incident_id))
    session.add(row)
    session.flush()
    return row


def list_events(session: Session, la_scope: str, incident_id: str) -> list[LifecycleEventRow]:
    """The incident's events in the order they happened (empty when out of scope)."""
    statement = (
        select(LifecycleEventRow)
        .join(IncidentRow, IncidentRow.id == LifecycleEventRow.incident_id)
        .where(LifecycleEventRow.incident_id == incident_id)
        .order_by(LifecycleEventRow.on, LifecycleEventRow.created_at, LifecycleEventRow.id)
    )
    return list(session.scalars(scoped(statement, IncidentRow.la_code, la_scope)).all())


def event_data(keyring: Keyring, event: LifecycleEventRow) -> dict[str, Any]:
    """The decrypted event as it was submitted (``{"type", "on", ...}``)."""
    return dict(
        as_mapping(open_json(keyring, event.data, event_aad(event.id, event.incident_id)), "event")
    )


def event_document(keyring: Keyring, event: LifecycleEventRow) -> bytes | None:
    """The decoded bytes of the event's document, or None when it carries none."""
    document = event_data(keyring, event).get("document")
    if not document:
        return None
    return base64.b64decode(as_mapping(document, "document")["content_base64"])


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise TypeError("an event's 'on' is a date, not a datetime")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _document_sha256(event: Mapping[str, Any]) -> str | None:
    document = event.get("document")
    if not document:
        return None
    try:
        content = base64.b64decode(
            as_mapping(document, "document")["content_base64"], validate=True
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError("document.content_base64 is not valid base64") from exc
    return hashlib.sha256(content).hexdigest()
