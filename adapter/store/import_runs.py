"""Export files converted through ``POST /imports``: what came in and what became of each row.

Row errors are sealed: a validation message may quote the refused value (an NHS number). So is
the upload's filename, which often names the child ("SI notification - <name> DOB <date>.csv"):
only the SHA-256 and size of the upload are kept in clear. An import keeps only the first row
errors and the first incident outcomes in full (the service decides how many) but always the
exact counts: ``error_count`` (every problem found), the number of rows rejected, and how many
incidents there were and of each outcome, sealed with them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.store.crypto import Keyring
from adapter.store.models import ImportRunRow
from adapter.store.scope import require_la, scoped
from adapter.store.sealing import import_aad, open_json, seal_json, upload_aad


@dataclass(frozen=True)
class ImportDetail:
    """The sealed part of an import: the upload's filename, the incident outcomes and row errors
    kept in full, and the exact totals, however many of either were kept."""

    incidents: list[dict[str, Any]]
    """What became of the first incidents: ``{"reference", "id", "outcome", "rows"}``."""
    row_errors: list[dict[str, Any]]
    rows_rejected: int
    """Rows rejected in all."""
    incident_count: int
    """Incidents converted in all (each one submitted, whatever its outcome)."""
    incident_outcomes: dict[str, int]
    """How many of all the incidents had each outcome (``created``, ``identical``, ...)."""
    filename: str | None = None
    """The upload's filename as the client sent it: personal data (it may name the child).
    ``None`` when none was given, and for imports stored before it was sealed (migration 0005
    removed the clear copy)."""
    failure: str | None = None
    """Why a ``failed`` import stopped (it may quote the file: sealed with the rest)."""

    @property
    def incidents_truncated(self) -> bool:
        """Whether ``incidents`` holds only the first of the outcomes."""
        return self.incident_count > len(self.incidents)


class FinishedImport(TypedDict):
    """What :func:`record_import` stores of an import that ran at once: the keywords it takes.

    ``incidents`` says what became of each converted incident (reference, id, outcome); it is
    sealed with the row errors and ``filename``, since each may quote what the export said or
    name the child. ``error_count`` and ``rows_rejected`` are the totals when ``row_errors``
    holds only the first errors, as ``incident_count`` and ``incident_outcomes`` are when
    ``incidents`` holds only the first outcomes (by default each is counted from the list
    given).
    """

    la_code: str
    filename: str | None
    sha256: str
    size: int
    system: str
    rows_read: int
    incidents_created: int
    row_errors: NotRequired[Sequence[Mapping[str, Any]]]
    incidents: NotRequired[Sequence[Mapping[str, Any]]]
    key_id: NotRequired[int | None]
    error_count: NotRequired[int | None]
    rows_rejected: NotRequired[int | None]
    incident_count: NotRequired[int | None]
    incident_outcomes: NotRequired[Mapping[str, int] | None]


def record_import(
    session: Session, keyring: Keyring, *, la_scope: str, **finished: Unpack[FinishedImport]
) -> ImportRunRow:
    """Store the outcome of one import for ``la_code`` (which the scope must allow), its detail
    sealed (see :class:`FinishedImport`)."""
    row_errors = finished.get("row_errors", ())
    error_count = finished.get("error_count")
    record = ImportRunRow(
        id=str(uuid.uuid4()),
        la_code=require_la(la_scope, finished["la_code"]),
        sha256=finished["sha256"],
        size=finished["size"],
        system=finished["system"],
        rows_read=finished["rows_read"],
        incidents_created=finished["incidents_created"],
        error_count=len(row_errors) if error_count is None else error_count,
        created_by_key_id=finished.get("key_id"),
        status="done",
    )
    detail = _detail(
        row_errors,
        finished.get("incidents", ()),
        rows_rejected=finished.get("rows_rejected"),
        incident_count=finished.get("incident_count"),
        incident_outcomes=finished.get("incident_outcomes"),
        filename=finished["filename"],
    )
    seal_detail(keyring, record, detail)
    session.add(record)
    session.flush()
    return record


def create_import(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    la_code: str,
    role: str,
    key_id: int | None,
    filename: str | None,
    sha256: str,
    size: int,
    system: str,
    rows_total: int,
    upload: bytes,
) -> ImportRunRow:
    """Store an upload to be imported in the background: ``queued``, the file sealed until its
    import has run, nothing converted yet."""
    record = ImportRunRow(
        id=str(uuid.uuid4()),
        la_code=require_la(la_scope, la_code),
        status="queued",
        sha256=sha256,
        size=size,
        system=system,
        rows_total=rows_total,
        rows_read=0,
        incidents_created=0,
        incidents_unchanged=0,
        incidents_conflicting=0,
        incidents_done=0,
        error_count=0,
        attempts=0,
        created_by_key_id=key_id,
        created_by_role=role,
    )
    record.upload = keyring.encrypt(upload, upload_aad(record.id, record.la_code))
    seal_detail(keyring, record, ImportDetail([], [], 0, 0, {}, filename))
    session.add(record)
    session.flush()
    return record


def seal_detail(keyring: Keyring, record: ImportRunRow, detail: ImportDetail) -> None:
    """Seal ``detail`` as the import's detail (replacing what it held)."""
    fields = {name: getattr(detail, name) for name in ImportDetail.__dataclass_fields__}
    record.row_errors = seal_json(keyring, fields, import_aad(record.id, record.la_code))


def open_upload(keyring: Keyring, record: ImportRunRow) -> bytes | None:
    """The uploaded file, or None once the import has run (or for one stored before)."""
    if record.upload is None:
        return None
    return keyring.decrypt(record.upload, upload_aad(record.id, record.la_code))


def claim_import(
    session: Session, import_id: str, *, now: dt.datetime, stale_before: dt.datetime
) -> ImportRunRow | None:
    """Take an import to run, its row locked: a ``queued`` one, or a ``running`` one whose run
    has not written since ``stale_before`` (its worker died). The run it starts is
    ``attempts`` after the increment; None when there is nothing to take."""
    record = _locked_import(session, import_id)
    if record is None or not _takeable(record, stale_before):
        return None
    record.status, record.attempts, record.heartbeat_at = "running", record.attempts + 1, now
    return record


def _locked_import(session: Session, import_id: str) -> ImportRunRow | None:
    """The import, its row locked until the transaction ends and re-read under the lock."""
    return session.scalars(
        select(ImportRunRow)
        .where(ImportRunRow.id == import_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _takeable(record: ImportRunRow, stale_before: dt.datetime) -> bool:
    if record.status == "queued":
        return True
    beat = record.heartbeat_at
    return record.status == "running" and (beat is None or beat < stale_before)


def owned_import(session: Session, import_id: str, attempt: int) -> ImportRunRow | None:
    """The import, its row locked, if run ``attempt`` still owns it (None once another run has
    taken it over, or it has finished): a run writes nothing after losing it."""
    record = _locked_import(session, import_id)
    if record is None or record.status != "running" or record.attempts != attempt:
        return None
    record.heartbeat_at = utcnow()
    return record


def imports_to_resume(
    session: Session, *, stale_before: dt.datetime, limit: int = 100
) -> list[tuple[str, int, str]]:
    """``(id, attempts, status)`` of imports whose job the sweeper should check: queued, or
    running with no write since ``stale_before``."""
    rows = session.execute(
        select(ImportRunRow.id, ImportRunRow.attempts, ImportRunRow.status)
        .where(
            or_(
                ImportRunRow.status == "queued",
                (ImportRunRow.status == "running")
                & (
                    ImportRunRow.heartbeat_at.is_(None) | (ImportRunRow.heartbeat_at < stale_before)
                ),
            )
        )
        .order_by(ImportRunRow.created_at)
        .limit(limit)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def list_imports(
    session: Session,
    la_scope: str,
    *,
    limit: int = 50,
    created_by_key_id: int | None = None,
) -> list[ImportRunRow]:
    """The latest imports in the scope, newest first."""
    statement = select(ImportRunRow)
    if created_by_key_id is not None:
        statement = statement.where(ImportRunRow.created_by_key_id == created_by_key_id)
    statement = scoped(statement, ImportRunRow.la_code, la_scope)
    return list(
        session.scalars(
            statement.order_by(ImportRunRow.created_at.desc(), ImportRunRow.id).limit(limit)
        )
    )


def get_import(
    session: Session, la_scope: str, import_id: str, *, created_by_key_id: int | None = None
) -> ImportRunRow | None:
    """One import, or None when it does not exist, is out of scope or, when
    ``created_by_key_id`` is given, was not created by that key."""
    statement = select(ImportRunRow).where(ImportRunRow.id == import_id)
    if created_by_key_id is not None:
        statement = statement.where(ImportRunRow.created_by_key_id == created_by_key_id)
    return session.scalars(scoped(statement, ImportRunRow.la_code, la_scope)).one_or_none()


def import_row_errors(keyring: Keyring, record: ImportRunRow) -> list[dict[str, Any]]:
    """The decrypted ``{"row", "field", "message"}`` errors of an import (those kept)."""
    return import_detail(keyring, record).row_errors


def import_incidents(keyring: Keyring, record: ImportRunRow) -> list[dict[str, Any]]:
    """What became of each converted incident: ``{"reference", "id", "outcome", "rows"}``."""
    return import_detail(keyring, record).incidents


def import_detail(keyring: Keyring, record: ImportRunRow) -> ImportDetail:
    """The decrypted detail of an import, in one decryption."""
    sealed = open_json(keyring, record.row_errors, import_aad(record.id, record.la_code))
    if isinstance(sealed, list):  # the first shape: row errors only
        sealed = {"row_errors": sealed, "incidents": []}
    # Each total is absent from imports stored before its list was capped: all were kept then.
    return _detail(
        sealed["row_errors"],
        sealed["incidents"],
        rows_rejected=sealed.get("rows_rejected"),
        incident_count=sealed.get("incident_count"),
        incident_outcomes=sealed.get("incident_outcomes") or None,
        filename=sealed.get("filename"),
        failure=sealed.get("failure"),
    )


def _detail(
    row_errors: Sequence[Mapping[str, Any]],
    incidents: Sequence[Mapping[str, Any]],
    *,
    rows_rejected: int | None,
    incident_count: int | None,
    incident_outcomes: Mapping[str, int] | None,
    filename: str | None,
    failure: str | None = None,
) -> ImportDetail:
    """An import's detail; a total not given is counted from the list kept (all were kept)."""
    if rows_rejected is None:
        rows_rejected = len({error.get("row") for error in row_errors})
    if incident_outcomes is None:
        incident_outcomes = _count_outcomes(incidents)
    return ImportDetail(
        incidents=[dict(i) for i in incidents],
        row_errors=[dict(e) for e in row_errors],
        rows_rejected=rows_rejected,
        incident_count=len(incidents) if incident_count is None else incident_count,
        incident_outcomes=dict(incident_outcomes),
        filename=filename,
        failure=failure,
    )


def _count_outcomes(incidents: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return dict(Counter(str(incident.get("outcome")) for incident in incidents))
