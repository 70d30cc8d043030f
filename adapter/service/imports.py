"""``POST /imports``: an export file converted and submitted, incident by incident (DESIGN.md §3.1).

Each converted incident is submitted in its own transaction, exactly as if a case system had
posted it: one that conflicts, belongs to another LA or is refused for any other reason (a date
outside the known calendar) is reported as that incident's outcome and the others still go in.
Rows the importer rejected are reported with their row, column, value and reason: the first
:data:`ROW_ERRORS_KEPT` in full, and every one in the counts, so an export rejected row by row
cannot make the import (and its response) grow without bound. Incident outcomes are bounded the
same way: the first :data:`INCIDENTS_KEPT` in full, and every one counted, in all and by outcome.
The upload's SHA-256 and size are recorded in clear, so a compliance officer can tie an import to
the file it came from; its filename is sealed with the row errors, since exports are often named
after the child.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from sqlalchemy.orm import Session

from adapter.apikeys import Principal
from adapter.errors import CalendarRangeError, CsinsError, InvalidRecord
from adapter.importers import Converted, Rejected, convert_export, record_to_json
from adapter.service import casework
from adapter.service.clock import london_today
from adapter.store import Database
from adapter.store import audit as audit_log
from adapter.store.imports import ImportDetail, get_import, record_import
from adapter.store.models import ImportRecord
from config.settings import Settings

HASH_CHUNK = 1024 * 1024
"""Bytes read at a time while hashing an upload."""

ROW_ERRORS_KEPT = 1000
"""Row errors an import keeps and returns in full (the first ones, in file order); the rest are
only counted."""

INCIDENTS_KEPT = 1000
"""Incident outcomes an import keeps and returns in full (the first ones, in file order); the
rest are only counted."""


@dataclass
class Imported:
    """The stored import, what it kept of its outcomes and errors, and the deliveries to enqueue."""

    record: ImportRecord
    detail: ImportDetail
    """The first incident outcomes and row errors, with the exact totals."""
    deliveries: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class IncidentOutcomes:
    """What became of an import's incidents: the first ``kept`` in full, and how many of each."""

    kept: int = INCIDENTS_KEPT
    first: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: dict[str, Any]) -> None:
        if len(self.first) < self.kept:
            self.first.append(outcome)
        self.count += 1
        self.by_outcome[outcome["outcome"]] += 1


@dataclass
class RowErrors:
    """The row errors of an import: the first ``kept`` in full, and how many there were."""

    kept: int = ROW_ERRORS_KEPT
    first: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, rejected: Rejected) -> None:
        room = self.kept - len(self.first)
        if room > 0:
            self.first += [problem.as_dict() for problem in rejected.problems[:room]]
        self.count += len(rejected.problems)


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
    """Convert ``stream`` and submit every incident; raises ``ExportError`` if unreadable.

    Only an unreadable file stops the import: whatever one incident's submission raises of the
    service's errors is that incident's outcome, and the import is stored in every case.
    """
    casework.require_submitter(principal)
    sha256, size = _digest(stream)
    # Read at each call (not as a default), so a test can lower the limit.
    incidents = IncidentOutcomes(kept=INCIDENTS_KEPT)
    row_errors = RowErrors()
    deliveries: list[tuple[str, str]] = []
    with convert_export(
        stream, filename, system=system, settings=settings, today=london_today(now)
    ) as conversion:
        for result in conversion:
            if not isinstance(result, Converted):
                row_errors.add(result)
                continue
            outcome = _submit(database, settings, principal, result, now)
            deliveries += outcome.pop("_deliveries")
            incidents.add(outcome)
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
            incidents_created=incidents.by_outcome["created"],
            row_errors=row_errors.first,
            incidents=incidents.first,
            key_id=principal.key_id,
            error_count=row_errors.count,
            rows_rejected=summary.rows_rejected,
            incident_count=incidents.count,
            incident_outcomes=incidents.by_outcome,
        )
        audit_log.audit_by(
            session,
            principal,
            "import.created",
            la_code=stored.la_code,
            object_type="import",
            object_id=stored.id,
            detail={"sha256": sha256, "rows": summary.rows_read, "errors": row_errors.count},
        )
    detail = ImportDetail(
        incidents=incidents.first,
        row_errors=row_errors.first,
        rows_rejected=summary.rows_rejected,
        incident_count=incidents.count,
        incident_outcomes=dict(incidents.by_outcome),
        filename=summary.file,
    )
    return Imported(stored, detail, deliveries)


def find_import(session: Session, principal: Principal, import_id: str) -> ImportRecord | None:
    """An import the caller may read, or None. An ``agency`` key refers incidents and does not
    read the LA's records (DESIGN.md §7), so it sees only the imports it made itself."""
    created_by = principal.key_id if principal.role == "agency" else None
    return get_import(session, principal.la_scope, import_id, created_by_key_id=created_by)


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
        outcome.update(id=None, outcome="conflict", detail=_not_submitted(outcome, conflict))
    except (InvalidRecord, CalendarRangeError) as error:
        outcome.update(outcome="invalid", detail=_not_submitted(outcome, error))
    except CsinsError as error:  # OutOfScope, EventRefused, ...: this incident only
        outcome.update(outcome="refused", detail=_not_submitted(outcome, error))
    return outcome


def _not_submitted(outcome: dict[str, Any], error: CsinsError) -> str:
    """Why an incident was not submitted, naming it and the export rows it came from."""
    rows = ", ".join(map(str, outcome["rows"]))
    plural = "s" if len(outcome["rows"]) > 1 else ""
    return f"incident {outcome['reference']} (row{plural} {rows}) was not submitted: {error}"
