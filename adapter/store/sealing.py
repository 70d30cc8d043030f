"""Which columns are encrypted, and the associated data that binds each ciphertext to its row.

Repositories seal on write and open on read through these helpers; :mod:`adapter.store.rekey`
walks :data:`SEALED_COLUMNS` to re-encrypt everything under the current key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from adapter.store.crypto import Keyring, aad
from adapter.store.models import (
    Base,
    ChildRow,
    DeliveryRow,
    ImportRunRow,
    IncidentVersionRow,
    LifecycleEventRow,
)


def canonical_json(value: Any) -> bytes:
    """Deterministic UTF-8 JSON (sorted keys, no spaces; dates as ISO strings) for hashing."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    ).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def version_aad(incident_id: str, version: int) -> str:
    return aad("incident_versions", "payload", incident_id, version)


def child_aad(incident_id: str, version: int, index: int) -> str:
    return aad("children", "details", incident_id, version, index)


def event_aad(event_id: str, incident_id: str) -> str:
    return aad("events", "data", event_id, incident_id)


def delivery_aad(delivery_id: str, incident_id: str) -> str:
    return aad("deliveries", "payload", delivery_id, incident_id)


def import_aad(import_id: str, la_code: str) -> str:
    return aad("imports", "row_errors", import_id, la_code)


def upload_aad(import_id: str, la_code: str) -> str:
    return aad("imports", "upload", import_id, la_code)


def seal_json(keyring: Keyring, value: Any, associated_data: str) -> bytes:
    """Encrypt ``value`` as canonical JSON."""
    return keyring.encrypt(canonical_json(value), associated_data)


def open_json(keyring: Keyring, ciphertext: bytes, associated_data: str) -> Any:
    """Decrypt and parse what :func:`seal_json` sealed."""
    return json.loads(keyring.decrypt(ciphertext, associated_data))


SEALED_COLUMNS: tuple[tuple[type[Base], str, Callable[[Any], str]], ...] = (
    (IncidentVersionRow, "payload", lambda row: version_aad(row.incident_id, row.version)),
    (ChildRow, "details", lambda row: child_aad(row.incident_id, row.version, row.index)),
    (LifecycleEventRow, "data", lambda row: event_aad(row.id, row.incident_id)),
    (DeliveryRow, "payload", lambda row: delivery_aad(row.id, row.incident_id)),
    (ImportRunRow, "row_errors", lambda row: import_aad(row.id, row.la_code)),
    (ImportRunRow, "upload", lambda row: upload_aad(row.id, row.la_code)),
)
"""Every encrypted column: (model, attribute, the row's associated data)."""


def as_mapping(value: Any, what: str) -> Mapping[str, Any]:
    """``value`` when it is a JSON object (a dict), else a ``TypeError`` naming ``what``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value
