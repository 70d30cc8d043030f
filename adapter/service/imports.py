"""``POST /imports``: an export file converted and submitted, incident by incident (DESIGN.md §3.1).

Each converted incident is submitted in its own transaction, exactly as if a case system had
posted it: one that conflicts or belongs to another LA is reported and the others still go in.
Rows the importer rejected are reported with their row, column, value and reason. The upload's
SHA-256 and size are recorded, so a compliance officer can tie an import to the file it came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from adapter.apikeys import Principal
from adapter.errors import InvalidRecord
from adapter.importers import Converted, convert_export, record_to_json
from adapter.service import casework
from adapter.service.clock import london_today
from adapter.store import Database
from adapter.store import audit as audit_log
from adapter.store.errors import OutOfScope
from adapter.store.imports import record_import
from adapter.store.models import ImportRecord
from config.settings import Settings

HASH_CHUNK = 1024 * 1024
"""Bytes read at a time while hashing an upload."""


@dataclass
class Imported:
    """The stored import, what became of each incident, and the deliveries to enqueue."""

    record: ImportRecord
    incidents: list[dict[str, Any]] = field(default_factory=list)
    row_errors: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[tuple[str, str]] = field(default_factory=list)


def _digest(stream: IO[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    while chunk := stream.read(HASH_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return sha.hexdigest(), size


def import_export(
    database: Database,
    settings: Settings,
    principal: Principal,
    stream: IO[bytes],
    filename: str | None,
    *,
    system: str = "auto",
    now: dt.datetime,
) -> Imported:
    """Convert ``stream`` and submit every incident; raises ``ExportError`` if unreadable."""
    casework.require_submitter(principal)
    sha256, size = _digest(stream)
    incidents: list[dict[str, Any]] = []
    row_errors: list[dict[str, Any]] = []
    deliveries: list[tuple[str, str]] = []
    with convert_export(
        stream, filename, system=system, settings=settings, today=london_today(now)
    ) as conversion:
        for result in conversion:
            if not isinstance(result, Converted):
                row_errors += [problem.as_dict() for problem in result.problems]
                continue
            outcome = _submit(database, settings, principal, result, now)
            deliveries += outcome.pop("_deliveries")
            incidents.append(outcome)
        summary = conversion.summary
    with database.session_scope() as session:
        stored = record_import(
            session,
            database.keyring,
            la_scope=principal.la_scope,
            la_code=principal.la_code,
            filename=summary.file,
            sha256=sha256,
            size=size,
            system=summary.system,
            rows_read=summary.rows_read,
            incidents_created=sum(1 for i in incidents if i["outcome"] == "created"),
            row_errors=row_errors,
            incidents=incidents,
            key_id=principal.key_id,
        )
        audit_log.audit_by(
            session,
            principal,
            "import.created",
            la_code=stored.la_code,
            object_type="import",
            object_id=stored.id,
            detail={"sha256": sha256, "rows": summary.rows_read, "errors": len(row_errors)},
        )
    return Imported(stored, incidents, row_errors, deliveries)


def _submit(
    database: Database,
    settings: Settings,
    principal: Principal,
    converted: Converted,
    now: dt.datetime,
) -> dict[str, Any]:
    record = orjson.loads(record_to_json(converted.record))
    outcome: dict[str, Any] = {
        "reference": record["incident"]["reference"],
        "id": None,
        "rows": list(converted.rows),
        "_deliveries": [],
    }
    try:
        with database.session_scope() as session:
            done = casework.submit(
                session, database.keyring, settings.policy, principal, record, now=now
            )
            outcome.update(
                id=done.incident.id,
                outcome=done.outcome,
                _deliveries=[(d.id, d.addressee) for d in done.deliveries],
            )
    except casework.RecordConflict as conflict:
        outcome.update(id=None, outcome="conflict", detail=str(conflict))
    except OutOfScope as error:
        outcome.update(outcome="refused", detail=str(error))
    except InvalidRecord as error:
        outcome.update(outcome="invalid", detail=str(error))
    return outcome
