"""``POST /imports``: an export accepted at once, converted and written in the background (§7).

:func:`accept_import` reads the upload (within the size limit), checks that it is an export it
can convert (the system recognised, the rows counted within the row limit: a file that cannot
be read is refused in the request, with nothing stored), seals it and stores the import
``queued``; its job is published when that commits. :func:`run_import` (the worker's job) then
converts it and writes the incidents through the one write path
(:func:`adapter.service.submissions.submit_batch`), :data:`IMPORT_BATCH` results per
transaction. Each transaction also records the import's progress and where it got to, so a run
whose worker died is taken over (by the sweeper) exactly where its last commit ended: no
incident is written twice, and the counts stay exact. The same file twice creates nothing new
(each incident is then ``identical``).

Rows the importer rejected are reported with their row, column, value and reason: the first
:data:`ROW_ERRORS_KEPT` in full, and every one in the counts; incident outcomes likewise
(:data:`INCIDENTS_KEPT`). The upload's SHA-256 and size are recorded in clear, so a compliance
officer can tie an import to the file it came from; its filename is sealed with the row errors,
and the file itself is sealed until the import has run, then erased.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from sqlalchemy.orm import Session

from adapter.clock import london_today, utcnow
from adapter.errors import ExportError, ExportTooLarge
from adapter.importers import Converted, Rejected, Summary, convert_export
from adapter.importers.conversion import Result
from adapter.service.replanning import CurrentRecord
from adapter.service.roles import require_submitter
from adapter.service.submissions import BatchRefused, Outcome, converted_record, submit_batch
from adapter.store import Database, audit_log
from adapter.store.api_keys import Principal
from adapter.store.import_runs import (
    ImportDetail,
    claim_import,
    create_import,
    get_import,
    import_detail,
    open_upload,
    owned_import,
    seal_detail,
)
from adapter.store.models import ImportRunRow
from adapter.store.publishing import Alongside, Publication, publish_after_commit
from config.settings import Settings

ROW_ERRORS_KEPT = 1000
"""Row errors an import keeps and returns in full (the first ones, in file order); the rest are
only counted."""

INCIDENTS_KEPT = 1000
"""Incident outcomes an import keeps and returns in full (the first ones, in file order); the
rest are only counted."""

IMPORT_BATCH = 200
"""Conversion results (incidents and rejected rows) written per transaction, with the import's
progress: the most a run taken over converts again, and how often the progress moves."""

MAX_RUNS = 5
"""Runs an import may start (the first, and takeovers after a worker died or a run failed on
something unexpected); after that it is ``failed``, for a person to look at."""


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


@dataclass
class Progress:
    """A run's tally, restored from the import when a run takes it over."""

    incidents: IncidentOutcomes
    row_errors: RowErrors
    done: int
    """Conversion results written (the resume point)."""
    filename: str | None

    @classmethod
    def of(cls, detail: ImportDetail, record: ImportRunRow) -> Progress:
        incidents = IncidentOutcomes(
            kept=INCIDENTS_KEPT,
            first=list(detail.incidents),
            count=detail.incident_count,
            by_outcome=Counter(detail.incident_outcomes),
        )
        row_errors = RowErrors(first=list(detail.row_errors), count=record.error_count)
        return cls(incidents, row_errors, record.incidents_done, detail.filename)

    def record_on(self, record: ImportRunRow, summary: Summary) -> ImportDetail:
        """Write the tally onto the import row; the detail to seal with it."""
        by_outcome = self.incidents.by_outcome
        record.rows_read = summary.rows_read
        record.incidents_created = by_outcome["created"]
        record.incidents_unchanged = by_outcome["identical"]
        record.incidents_conflicting = by_outcome["conflict"]
        record.error_count = self.row_errors.count
        record.incidents_done = self.done
        return ImportDetail(
            incidents=self.incidents.first,
            row_errors=self.row_errors.first,
            rows_rejected=summary.rows_rejected,
            incident_count=self.incidents.count,
            incident_outcomes=dict(by_outcome),
            filename=self.filename,
        )


def read_upload(stream: IO[bytes], name: str, max_bytes: int) -> bytes:
    """The whole upload, refused (413) as soon as it is over ``max_bytes``."""
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise ExportTooLarge(
            f"{name} is over the limit of {max_bytes:,} bytes (CSINS_MAX_EXPORT_BYTES)"
        )
    return content


def accept_import(
    database: Database,
    settings: Settings,
    principal: Principal,
    stream: IO[bytes],
    filename: str | None,
    *,
    system: str = "auto",
    now: dt.datetime,
) -> ImportRunRow:
    """Store an export to be imported in the background; raises ``ExportError`` if it cannot
    be converted at all (over the limits: ``ExportTooLarge``), storing nothing then."""
    require_submitter(principal)
    content = read_upload(stream, filename or "the export", settings.max_export_bytes)
    with convert_export(
        io.BytesIO(content), filename, system=system, settings=settings, today=london_today(now)
    ) as conversion:
        detected, rows_total = conversion.system, conversion.survey.rows
    sha256 = hashlib.sha256(content).hexdigest()
    with database.session_scope() as session:
        record = create_import(
            session,
            database.keyring,
            la_scope=principal.la_scope,
            la_code=principal.la_code,
            role=principal.role,
            key_id=principal.key_id,
            filename=filename,
            sha256=sha256,
            size=len(content),
            system=detected,
            rows_total=rows_total,
            upload=content,
        )
        audit_log.audit_by(
            session,
            principal,
            "import.created",
            la_code=record.la_code,
            object_type="import",
            object_id=record.id,
            detail={"sha256": sha256, "rows": rows_total},
        )
        publish_after_commit(session, Publication("import", record.id))
    return record


@dataclass(frozen=True)
class _Run:
    """What one run of an import works from, read when it took the import."""

    import_id: str
    attempt: int
    principal: Principal
    content: bytes | None
    system: str
    today: dt.date
    progress: Progress


def run_import(
    database: Database,
    settings: Settings,
    import_id: str,
    on_progress: Callable[[ImportRunRow], None] | None = None,
) -> str:
    """Convert and write an import from where its last run stopped; returns its status after
    (``nothing to do`` when it is finished or another live run has it). ``on_progress`` is
    given the import after each batch has committed (a command's progress bar)."""
    run = _take(database, settings, import_id)
    if run is None:
        return "nothing to do"
    publisher, database.publisher = database.publisher, Alongside(database.publisher)
    try:
        return _run(database, settings, run, on_progress)
    finally:
        alongside, database.publisher = database.publisher, publisher
        if isinstance(alongside, Alongside):
            alongside.close()  # the last batch's deliveries are on the queues when it returns


def _run(
    database: Database,
    settings: Settings,
    run: _Run,
    on_progress: Callable[[ImportRunRow], None] | None,
) -> str:
    if run.attempt > MAX_RUNS or run.content is None:
        why = f"stopped after {MAX_RUNS} runs" if run.content else "its upload is gone"
        return _finish(database, run, None, failure=why)
    try:
        with convert_export(
            io.BytesIO(run.content),
            run.progress.filename,
            system=run.system,
            settings=settings,
            today=run.today,
        ) as conversion:
            results = itertools.islice(iter(conversion), run.progress.done, None)
            for batch in _batches(results, IMPORT_BATCH):
                record = _write(database, settings, run, batch, conversion.summary)
                if record is None:
                    return "taken over"
                if on_progress is not None:
                    on_progress(record)
            return _finish(database, run, conversion.summary)
    except ExportError as error:  # read once already, so only a changed configuration
        return _finish(database, run, None, failure=str(error))


def _take(database: Database, settings: Settings, import_id: str) -> _Run | None:
    now = utcnow()
    stale_before = now - dt.timedelta(seconds=settings.policy.stuck_import_seconds)
    with database.session_scope() as session:
        record = claim_import(session, import_id, now=now, stale_before=stale_before)
        if record is None:
            return None
        detail = import_detail(database.keyring, record)
        role = record.created_by_role or "local_authority"
        return _Run(
            import_id=record.id,
            attempt=record.attempts,
            principal=Principal(record.created_by_key_id, record.la_code, role),
            content=open_upload(database.keyring, record),
            system=record.system,
            today=london_today(record.created_at),
            progress=Progress.of(detail, record),
        )


def _batches(results: Iterator[Result], size: int) -> Iterator[list[Result]]:
    while batch := list(itertools.islice(results, size)):
        yield batch


def _write(
    database: Database, settings: Settings, run: _Run, batch: list[Result], summary: Summary
) -> ImportRunRow | None:
    """Write one batch and the progress it makes, in one transaction; None (nothing written)
    when another run has taken the import over."""
    records = [converted_record(result.record) for result in batch if isinstance(result, Converted)]
    try:
        return _write_batch(database, settings, run, batch, records, summary, isolated=False)
    except BatchRefused:  # rolled back: each record in a savepoint, to tell which failed
        return _write_batch(database, settings, run, batch, records, summary, isolated=True)


def _write_batch(
    database: Database,
    settings: Settings,
    run: _Run,
    batch: list[Result],
    records: list[CurrentRecord],
    summary: Summary,
    *,
    isolated: bool,
) -> ImportRunRow | None:
    with database.session_scope() as session:
        record = owned_import(session, run.import_id, run.attempt)
        if record is None:
            return None
        outcomes = iter(
            submit_batch(
                session,
                database.keyring,
                settings.policy,
                run.principal,
                records,
                now=utcnow(),
                isolated=isolated,
            )
        )
        progress = run.progress
        for result in batch:
            if isinstance(result, Converted):
                progress.incidents.add(_outcome(result, next(outcomes)))
            else:
                progress.row_errors.add(result)
        progress.done += len(batch)
        seal_detail(database.keyring, record, progress.record_on(record, summary))
    return record


def _outcome(converted: Converted, done: Outcome) -> dict[str, Any]:
    reference = converted.record["incident"]["reference"]
    outcome: dict[str, Any] = {
        "reference": reference,
        "id": done.incident_id,
        "rows": list(converted.rows),
        "outcome": done.outcome,
    }
    if done.error is not None:
        rows = ", ".join(map(str, converted.rows))
        plural = "s" if len(converted.rows) > 1 else ""
        outcome["detail"] = (
            f"incident {reference} (row{plural} {rows}) was not submitted: {done.error}"
        )
    return outcome


def _finish(
    database: Database, run: _Run, summary: Summary | None, *, failure: str | None = None
) -> str:
    """Mark the import ``done`` (or ``failed``, saying why), erase its upload, audit it."""
    with database.session_scope() as session:
        record = owned_import(session, run.import_id, run.attempt)
        if record is None:
            return "taken over"
        detail = import_detail(database.keyring, record)
        if summary is not None:
            record.system = summary.system
            detail = run.progress.record_on(record, summary)
        if failure is not None:
            detail = ImportDetail(**{**_fields(detail), "failure": failure})
        seal_detail(database.keyring, record, detail)
        record.status = "failed" if failure else "done"
        record.upload, record.finished_at = None, utcnow()
        audit_log.audit_by(
            session,
            run.principal,
            f"import.{record.status}",
            la_code=record.la_code,
            object_type="import",
            object_id=record.id,
            detail={
                "rows": record.rows_read,
                "errors": record.error_count,
                "created": record.incidents_created,
            },
        )
        return record.status


def _fields(detail: ImportDetail) -> dict[str, Any]:
    return {name: getattr(detail, name) for name in ImportDetail.__dataclass_fields__}


def find_import(session: Session, principal: Principal, import_id: str) -> ImportRunRow | None:
    """An import the caller may read, or None. An ``agency`` key refers incidents and does not
    read the LA's records (DESIGN.md §7), so it sees only the imports it made itself."""
    created_by = principal.key_id if principal.role == "agency" else None
    return get_import(session, principal.la_scope, import_id, created_by_key_id=created_by)
