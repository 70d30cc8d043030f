"""Imports in the background (DESIGN.md §7): stored sealed and queued, run a batch per
transaction with their progress, taken over where they stopped, and refused over the limits."""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

import pytest
from sqlalchemy import func, select, text

from adapter.queue import IMPORTS, import_job_id, job_status
from adapter.service import import_runs
from adapter.service.import_runs import run_import
from adapter.store.models import ImportRunRow, IncidentRow
from jobs.maintenance import sweep
from tests.importers.conftest import headers, make_row
from tests.service.test_imports import post_upload

ROWS = 7
"""Incidents in the export these tests import (one row each)."""


def _export(count: int = ROWS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers("mosaic"), lineterminator="\n")
    writer.writeheader()
    for n in range(count):
        writer.writerow(make_row("mosaic", INCIDENT_REFERENCE=f"BG-{n}", PERSON_ID=f"70{n}"))
    return buffer.getvalue().encode()


def _accepted(service: Any, key: str, content: bytes | None = None) -> str:
    response = post_upload(service, key, "mosaic.csv", content or _export())
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["id"])


def _record(service: Any, import_id: str) -> ImportRunRow:
    with service.database.session_scope() as session:
        return session.get_one(ImportRunRow, import_id)


def _references(service: Any) -> list[str]:
    with service.database.session_scope() as session:
        return sorted(session.scalars(select(IncidentRow.reference)))


def _stale(service: Any) -> None:
    """The import's run is taken for dead at once (its worker stopped writing)."""
    policy = dataclasses.replace(service.settings.policy, stuck_import_seconds=0)
    service.settings = dataclasses.replace(service.settings, policy=policy)


class Crash(Exception):
    """The worker dies between two batches."""


def test_the_upload_is_sealed_until_its_import_has_run_then_erased(service):
    key = service.key()
    import_id = _accepted(service, key)
    queued = _record(service, import_id)
    assert queued.status == "queued" and queued.upload is not None
    with service.database.engine.connect() as connection:
        row = connection.execute(text("SELECT upload FROM imports")).one()
    assert b"BG-0" not in bytes(row[0])  # encrypted at rest, like the records it holds
    assert job_status(service.redis, import_job_id(import_id, 0)) is not None

    service.run_imports()
    done = _record(service, import_id)
    assert (done.status, done.upload, done.attempts) == ("done", None, 1)
    assert done.finished_at is not None
    assert (done.rows_read, done.incidents_created, done.incidents_done) == (ROWS, ROWS, ROWS)


def test_progress_is_committed_with_each_batch(service, monkeypatch):
    monkeypatch.setattr(import_runs, "IMPORT_BATCH", 3)
    key = service.key()
    import_id = _accepted(service, key)
    seen: list[tuple[str, int, int]] = []

    def watch(record: ImportRunRow) -> None:
        # What another reader (GET /imports/{id}) sees once the batch has committed.
        body = service.get(f"/api/v1/imports/{record.id}", key).get_json()
        seen.append((body["status"], body["incidents_created"], len(_references(service))))

    assert run_import(service.database, service.settings, import_id, watch) == "done"
    assert seen == [("running", 3, 3), ("running", 6, 6), ("running", 7, 7)]
    body = service.get(f"/api/v1/imports/{import_id}", key).get_json()
    assert (body["status"], body["incident_count"], body["rows_read"]) == ("done", ROWS, ROWS)


def test_an_import_whose_worker_died_is_taken_over_where_it_stopped(service, monkeypatch):
    monkeypatch.setattr(import_runs, "IMPORT_BATCH", 3)
    key = service.key()
    import_id = _accepted(service, key)

    def die_after_the_first_batch(_record: ImportRunRow) -> None:
        raise Crash

    with pytest.raises(Crash):
        run_import(service.database, service.settings, import_id, die_after_the_first_batch)
    stopped = _record(service, import_id)
    assert (stopped.status, stopped.incidents_done, stopped.attempts) == ("running", 3, 1)

    # While its run is alive, no other run takes it.
    assert run_import(service.database, service.settings, import_id) == "nothing to do"
    _stale(service)
    assert run_import(service.database, service.settings, import_id) == "done"
    done = _record(service, import_id)
    assert (done.attempts, done.incidents_created, done.incidents_done) == (2, ROWS, ROWS)
    assert _references(service) == sorted(f"BG-{n}" for n in range(ROWS))
    body = service.get(f"/api/v1/imports/{import_id}", key).get_json()
    assert [i["reference"] for i in body["incidents"]] == [f"BG-{n}" for n in range(ROWS)]
    assert body["incident_outcomes"] == {"created": ROWS}


def test_a_run_taken_over_writes_nothing_more(service, monkeypatch):
    monkeypatch.setattr(import_runs, "IMPORT_BATCH", 3)
    import_id = _accepted(service, service.key())
    _stale(service)
    taken = False

    def taken_over_meanwhile(_record: ImportRunRow) -> None:
        nonlocal taken
        if not taken:  # another worker takes it over between this run's batches
            taken = True
            with pytest.raises(Crash):
                run_import(service.database, service.settings, import_id, _crash)

    assert run_import(service.database, service.settings, import_id, taken_over_meanwhile) == (
        "taken over"
    )
    record = _record(service, import_id)
    assert (record.attempts, record.incidents_done, record.incidents_created) == (2, 6, 6)
    assert len(_references(service)) == 6


def _crash(_record: ImportRunRow) -> None:
    raise Crash


def test_the_sweeper_requeues_an_import_whose_job_was_lost(service):
    import_id = _accepted(service, service.key())
    service.redis.flushdb()  # Redis restarted empty: the import's job is gone
    with service.app.app_context():
        service.work()  # nothing to run
    assert _record(service, import_id).status == "queued"
    assert _sweep(service) == 1
    assert job_status(service.redis, import_job_id(import_id, 0)) is not None
    service.run_imports()
    assert _record(service, import_id).status == "done"
    assert _sweep(service) == 0


def test_the_sweeper_hands_a_dead_run_to_another_worker(service, monkeypatch):
    monkeypatch.setattr(import_runs, "IMPORT_BATCH", 3)
    import_id = _accepted(service, service.key())
    with pytest.raises(Crash):
        run_import(service.database, service.settings, import_id, _crash)
    assert _sweep(service) == 0  # its run wrote a moment ago
    _stale(service)
    assert _sweep(service) == 1
    assert job_status(service.redis, import_job_id(import_id, 2)) is not None
    service.run_imports()
    assert _record(service, import_id).incidents_created == ROWS


def _sweep(service: Any) -> int:
    from jobs.context import build_context, use_context

    use_context(build_context(service.settings, service.database))
    try:
        return sweep()
    finally:
        use_context(None)


def test_an_import_stopped_too_often_fails_saying_why(service, monkeypatch):
    import_id = _accepted(service, service.key())
    with service.database.session_scope() as session:
        session.get_one(ImportRunRow, import_id).attempts = import_runs.MAX_RUNS
    service.run_imports()
    body = service.get(f"/api/v1/imports/{import_id}", service.key()).get_json()
    assert body["status"] == "failed"
    assert body["failure"] == f"stopped after {import_runs.MAX_RUNS} runs"
    assert _record(service, import_id).upload is None


def test_an_upload_over_the_size_limit_is_a_413_problem(service):
    limited = dataclasses.replace(service.settings, max_export_bytes=1000)
    service.app.extensions["csins"].settings = limited
    response = post_upload(service, service.key(), "big.csv", _export(40))
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"
    assert (
        "big.csv is over the limit of 1,000 bytes (CSINS_MAX_EXPORT_BYTES)"
        in (response.get_json()["detail"])
    )
    with service.database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ImportRunRow)) == 0


def test_a_request_over_the_servers_limit_is_a_413_problem(service):
    service.app.config["MAX_CONTENT_LENGTH"] = 2000
    response = post_upload(service, service.key(), "big.csv", _export(40))
    assert response.status_code == 413
    assert response.content_type == "application/problem+json"


def test_the_same_file_twice_creates_nothing_new_and_says_so(service):
    key = service.key()
    first = _accepted(service, key)
    service.run_imports()
    second = _accepted(service, key)
    service.run_imports()
    body = service.get(f"/api/v1/imports/{second}", key).get_json()
    assert (body["incidents_created"], body["incidents_unchanged"]) == (0, ROWS)
    assert body["incident_outcomes"] == {"identical": ROWS}
    assert first != second and len(_references(service)) == ROWS


def test_an_import_and_the_api_store_the_same_record_the_same_way(service):
    """The one write path: an imported record (never serialised and validated again) is
    stored exactly as the same record posted to the API, so posting it after is identical."""
    key = service.key()
    _accepted(service, key, _export(1))
    service.run_imports()
    with service.database.session_scope() as session:
        incident = session.scalars(select(IncidentRow)).one()
        from adapter.store.incidents import current_record

        record = current_record(session, service.database.keyring, incident)
    response = service.post("/api/v1/incidents", key, record)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == incident.id


def test_the_import_job_takes_only_the_import_id(service):
    import_id = _accepted(service, service.key())
    from rq import Queue

    from adapter.queue import SERIALIZER

    (job,) = Queue(IMPORTS, connection=service.redis, serializer=SERIALIZER).get_jobs()
    assert (job.func_name, list(job.args), job.kwargs) == (
        "jobs.imports.run_import",
        [import_id],
        {},
    )


def test_an_agency_import_refers_and_a_compliance_key_cannot_import(service):
    agency = service.key(role="agency")
    import_id = _accepted(service, agency)
    service.run_imports()
    with service.database.session_scope() as session:
        statuses = set(session.scalars(select(IncidentRow.status)))
    assert statuses == {"referral"}
    assert _record(service, import_id).created_by_role == "agency"
    assert post_upload(service, service.key(role="compliance"), "x.csv", _export()).status_code == (
        403
    )


def test_a_batch_writes_new_incidents_together_and_tells_each_records_outcome(service):
    """The one write path: new records inserted in one statement, a repeat of a reference in
    the same batch and a stored one recognised, a conflict rolled back alone (§4)."""
    from adapter.clock import london_today, utcnow
    from adapter.service import casework
    from adapter.service.replanning import CurrentRecord
    from adapter.service.submissions import BatchRefused, submit_batch
    from adapter.store.api_keys import Principal
    from tests.support.service import sample_record

    def valid(reference: str, summary: str = "What happened.") -> CurrentRecord:
        record = sample_record()
        record["incident"]["reference"] = reference
        record["incident"]["summary"] = summary
        loaded, dumped = casework.validate_record(record, london_today(utcnow()))
        return CurrentRecord(dumped, loaded)

    principal = Principal(None, "812", "local_authority")
    database, policy = service.database, service.settings.policy
    with database.session_scope() as session:
        first = submit_batch(
            session, database.keyring, policy, principal, [valid("B-1"), valid("B-1")], now=utcnow()
        )
    assert [o.outcome for o in first] == ["created", "identical"]
    assert first[0].incident_id == first[1].incident_id
    batch = [valid("B-2"), valid("B-1", "Other facts."), valid("B-3")]
    with pytest.raises(BatchRefused), database.session_scope() as session:
        submit_batch(session, database.keyring, policy, principal, batch, now=utcnow())
    assert _references(service) == ["B-1"]  # the whole batch rolled back
    with database.session_scope() as session:
        again = submit_batch(
            session, database.keyring, policy, principal, batch, now=utcnow(), isolated=True
        )
    assert [o.outcome for o in again] == ["created", "conflict", "created"]
    assert _references(service) == ["B-1", "B-2", "B-3"]
