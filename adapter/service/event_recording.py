"""Record a lifecycle event: it adds, satisfies or changes an incident's obligations (DESIGN.md §5).

Only a ``local_authority`` key records events (DESIGN.md §7). The event is validated, the
incident re-planned with it (an impossible event raises ``EventRefused`` and nothing is
written), and the deliveries the new plan owes are queued with it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError

from adapter.clock import london_today
from adapter.errors import InvalidRecord
from adapter.service import deliveries_owed as owed_deliveries
from adapter.service.case_changes import CaseChange
from adapter.service.replanning import replan
from adapter.service.roles import require_local_authority
from adapter.store import events as event_store
from adapter.store import incidents as incident_store
from adapter.store.models import DeliveryRow, LifecycleEventRow
from schemas.events import EventSchema, carries_document
from schemas.fields import flatten

FURTHER_INFORMATION = "further_information"
"""§5: what the Panel asks for, and what the partners send it."""

_EVENT = EventSchema()


def record_event(
    change: CaseChange, incident_id: str, data: Any
) -> tuple[LifecycleEventRow, list[DeliveryRow]] | None:
    """Record a lifecycle event; it adds, satisfies or changes obligations (DESIGN.md §5).

    An impossible event (out of order, before the incident) raises ``EventRefused`` and nothing
    is written. Events that produce a document must carry it (DESIGN.md §7).
    """
    principal, session, keyring = change.principal, change.session, change.keyring
    require_local_authority(principal, "record events")
    loaded = _valid_event(data, london_today(change.now))
    incident = incident_store.lock_incident(session, principal.la_scope, incident_id)
    if incident is None:
        return None
    event_json = _EVENT.dump(loaded)
    planned = replan(session, keyring, change.policy, incident, change.now, extra_event=event_json)
    row = event_store.add_event(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident.id,
        event=event_json,
        key_id=principal.key_id,
    )
    assert row is not None  # the incident was found in this scope a moment ago
    deliveries = change.queue_owed(incident, planned)
    if loaded["type"] == "further_information_sent" and not any(
        d.document == FURTHER_INFORMATION for d in deliveries
    ):
        # §5: sent without a request (or after it was answered), it owes nothing, and the
        # Panel still receives it.
        deliveries.append(owed_deliveries.queue_unrequested(session, keyring, incident, event_json))
    change.audit(
        "event.recorded",
        incident,
        {"type": loaded["type"], "deliveries": len(deliveries)},
    )
    return row, deliveries


def _valid_event(data: Any, today: dt.date) -> dict[str, Any]:
    """The event loaded, or :class:`InvalidRecord` with its problems: a document event carries
    its document, in strict base64 (DESIGN.md §7), and no event is dated after ``today``."""
    if not isinstance(data, Mapping):
        raise InvalidRecord([("_schema", "expected a JSON object: a lifecycle event")])
    try:
        loaded: dict[str, Any] = _EVENT.load(data)
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
    if loaded["on"] > today:
        raise InvalidRecord([("on", f"{loaded['on'].isoformat()} is in the future")])
    return loaded


def _is_base64(content: str) -> bool:
    """Whether ``content`` decodes as the store decodes a document (strict base64)."""
    try:
        base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
