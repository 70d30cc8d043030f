"""DESIGN.md §2, §7: a worker killed in the middle of an import loses nothing and doubles
nothing. The import's last committed batch says where it got to; once its run has written
nothing for ``stuck_import_seconds``, the sweeper has another worker take it over from there."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from adapter.queue import import_job_id, job_status
from adapter.store.models import DeliveryRow, ImportRunRow, IncidentRow
from tests.e2e.conftest import Stack
from tests.importers.conftest import headers, make_row

INCIDENTS = 2000
"""One row each: four batches, so the kill lands with some written and more to come. The worker
taking over first delivers what the committed batches queued (deliveries come before imports
in a worker's queues), so more would only make the test wait longer."""


def _export() -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers("mosaic"), lineterminator="\n")
    writer.writeheader()
    for n in range(INCIDENTS):
        writer.writerow(make_row("mosaic", INCIDENT_REFERENCE=f"KILL-{n}", PERSON_ID=f"6{n}"))
    return buffer.getvalue().encode()


def _import(stack: Stack, import_id: str) -> ImportRunRow:
    with stack.database.session_scope() as session:
        return session.get_one(ImportRunRow, import_id)


@pytest.mark.slow
def test_worker_killed_mid_import(stack: Stack) -> None:
    key = stack.key()
    first = stack.start_worker()
    # Encoded in memory: the test client would spool a body this size to a file it never closes.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(_export()), "kill.csv")})
    response = stack.client.post(
        "/api/v1/imports",
        data=body,
        headers={"Authorization": f"Bearer {key}"},
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 202, response.get_json()
    import_id = response.get_json()["id"]

    def part_written() -> bool:
        record = _import(stack, import_id)
        return record.status == "running" and 0 < record.incidents_done < INCIDENTS

    stack.wait_for(part_written, "the import to be part-way through")
    first.kill()
    stopped = _import(stack, import_id)
    assert stopped.status == "running" and stopped.attempts == 1

    stack.start_worker()

    def handed_over() -> bool:
        # A sweep re-enqueues deliveries too (those the dead worker had not yet put on the
        # queues): the import is handed over once its run has been silent long enough.
        stack.sweep()
        return job_status(stack.redis, import_job_id(import_id, 2)) is not None

    stack.wait_for(handed_over, "the sweeper to hand the import over")
    stack.wait_for(
        lambda: _import(stack, import_id).status == "done", "the import to finish", timeout=300
    )

    done = _import(stack, import_id)
    assert done.attempts == 2
    assert (done.incidents_created, done.incidents_unchanged) == (INCIDENTS, 0)
    assert (done.incidents_done, done.rows_read, done.error_count) == (INCIDENTS, INCIDENTS, 0)
    assert done.upload is None
    with stack.database.session_scope() as session:
        references = session.scalars(select(IncidentRow.reference)).all()
        assert len(references) == len(set(references)) == INCIDENTS
        # Each incident's deliveries were written once: by the batch that committed it.
        per_incident = session.execute(
            select(
                DeliveryRow.incident_id, DeliveryRow.document, DeliveryRow.addressee, func.count()
            )
            .group_by(DeliveryRow.incident_id, DeliveryRow.document, DeliveryRow.addressee)
            .having(func.count() > 1)
        ).all()
        assert per_incident == []
        assert session.scalar(select(func.count(func.distinct(DeliveryRow.incident_id)))) == (
            INCIDENTS
        )
    body = stack.client.get(
        f"/api/v1/imports/{import_id}", headers={"Authorization": f"Bearer {key}"}
    ).get_json()
    assert body["incident_outcomes"] == {"created": INCIDENTS}
