"""Export files converted through ``POST /imports``: what came in and what became of each row.

Row errors are sealed: a validation message may quote the refused value (an NHS number).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.crypto import Keyring
from adapter.store.models import ImportRecord
from adapter.store.scope import require_la, scoped
from adapter.store.sealing import import_aad, open_json, seal_json


def record_import(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    la_code: str,
    filename: str | None,
    sha256: str,
    size: int,
    system: str,
    rows_read: int,
    incidents_created: int,
    row_errors: Sequence[Mapping[str, Any]] = (),
    incidents: Sequence[Mapping[str, Any]] = (),
    key_id: int | None = None,
) -> ImportRecord:
    """Store the outcome of one import for ``la_code`` (which the scope must allow).

    ``incidents`` says what became of each converted incident (reference, id, outcome); it is
    sealed with the row errors, since both may quote what the export said.
    """
    record = ImportRecord(
        id=str(uuid.uuid4()),
        la_code=require_la(la_scope, la_code),
        filename=filename,
        sha256=sha256,
        size=size,
        system=system,
        rows_read=rows_read,
        incidents_created=incidents_created,
        error_count=len(row_errors),
        created_by_key_id=key_id,
    )
    record.row_errors = seal_json(
        keyring,
        {"row_errors": [dict(e) for e in row_errors], "incidents": [dict(i) for i in incidents]},
        import_aad(record.id, record.la_code),
    )
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, la_scope: str, import_id: str) -> ImportRecord | None:
    """One import, or None when it does not exist or is out of scope."""
    statement = select(ImportRecord).where(ImportRecord.id == import_id)
    return session.scalars(scoped(statement, ImportRecord.la_code, la_scope)).one_or_none()


def import_row_errors(keyring: Keyring, record: ImportRecord) -> list[dict[str, Any]]:
    """The decrypted ``{"row", "field", "message"}`` errors of an import."""
    return _opened(keyring, record)["row_errors"]


def import_incidents(keyring: Keyring, record: ImportRecord) -> list[dict[str, Any]]:
    """What became of each converted incident: ``{"reference", "id", "outcome", "rows"}``."""
    return _opened(keyring, record)["incidents"]


def _opened(keyring: Keyring, record: ImportRecord) -> dict[str, list[dict[str, Any]]]:
    sealed = open_json(keyring, record.row_errors, import_aad(record.id, record.la_code))
    if isinstance(sealed, list):  # the first shape: row errors only
        return {"row_errors": [dict(e) for e in sealed], "incidents": []}
    return {
        "row_errors": [dict(e) for e in sealed["row_errors"]],
        "incidents": [dict(i) for i in sealed["incidents"]],
    }
