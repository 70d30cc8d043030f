"""DESIGN.md §6: a delivery job whose database connection is lost (a backend terminated, a
failover) still records what the addressee answered, once.

The job runs in this process against the module's database; PostgreSQL's own
``pg_terminate_backend`` cuts the job's connection at the moment under test. A connection that
committed but never said so is simulated on both backends: the retry must not record twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from adapter.clock import london_today
from adapter.sandbox import Fault
from adapter.service import alerts, delivering
from adapter.store.access_models import AuditEntryRow
from adapter.store.database import Database
from adapter.store.models import DeliveryAttemptRow, DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from jobs.context import build_context, use_context
from jobs.deliver import deliver
from tests.e2e.conftest import make_record
from tests.support.service import Service


def terminate_backends(database: Database, pid: int | None = None) -> int:
    """Terminate backend ``pid``, or every backend of ``database`` but the caller's (as
    /tmp/review-ops/pgkill.sh does); how many were terminated."""
    admin = create_engine(database.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            which = "pid = :pid" if pid is not None else "pid <> pg_backend_pid()"
            return int(
                connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        f" WHERE datname = current_database() AND {which}"
                    ),
                    {"pid": pid},
                ).scalar_one()
            )
    finally:
        admin.dispose()


@pytest.fixture
def postgresql(service: Service) -> Service:
    if service.database.dialect != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    return service


def submit(service: Service, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit ``record`` (a fresh one by default) owing one delivery; that delivery."""
    response = service.post("/api/v1/incidents", service.key(), record or make_record())
    assert response.status_code == 201, response.get_json()
    (queued,) = response.get_json()["deliveries"]
    return dict(queued)


def run_job(service: Service, **policy: Any) -> None:
    """Install the worker's context for jobs run in this process (``policy`` overrides)."""
    settings = service.settings
    if policy:
        settings = dataclasses.replace(
            settings, policy=dataclasses.replace(settings.policy, **policy)
        )
    use_context(build_context(settings, service.database))


def assert_recorded_once(service: Service, delivery_id: str, outcome: str) -> None:
    """One try, recorded with ``outcome``; one receipt if acknowledged, else none; and the
    addressee received the document once."""
    with service.database.session_scope() as session:
        delivery = session.get_one(DeliveryRow, delivery_id)
        attempts = session.scalars(
            select(DeliveryAttemptRow).where(DeliveryAttemptRow.delivery_id == delivery_id)
        ).all()
        receipts = session.scalars(select(ReceiptRow).where(ReceiptRow.delivery_id == delivery_id))
        assert [a.outcome for a in attempts] == [outcome]
        assert len(receipts.all()) == (1 if outcome == "acknowledged" else 0)
        addressee = delivery.addressee
    assert service.sandbox.state.stats()["addressees"][addressee]["requests"] == 1


@pytest.mark.parametrize("step", ["start", "record"])
def test_a_connection_terminated_under_a_step_is_tried_again(
    postgresql: Service, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """The step's connection is terminated as its transaction begins: for ``record``, after
    the addressee acknowledged. The step is tried again on a new connection."""
    service = postgresql
    queued = submit(service)
    run_job(service)
    original = getattr(delivering, step)
    terminated: list[int] = []

    def on_a_terminated_connection(session: Session, *args: Any, **kwargs: Any) -> Any:
        if not terminated:  # the first try only
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            terminated.append(terminate_backends(service.database, pid))
        return original(session, *args, **kwargs)

    monkeypatch.setattr(delivering, step, on_a_terminated_connection)
    assert deliver(queued["id"]) == "acknowledged"
    assert terminated == [1]
    assert_recorded_once(service, queued["id"], "acknowledged")


def test_every_connection_terminated_after_the_send_is_recorded_once(
    postgresql: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an operator (or a failover) does: every backend of the database terminated while the
    addressee is being called, so ``record`` finds its pooled connection dead."""
    service = postgresql
    service.database.engine.dispose()  # every pooled connection is then one this test made
    queued = submit(service)
    run_job(service)
    channel = build_context(service.settings, service.database).channel(queued["addressee"])
    send = type(channel).send
    terminated: list[int] = []

    def send_then_terminate(self: Any, message: Any) -> Any:
        outcome = send(self, message)
        terminated.append(terminate_backends(service.database))
        return outcome

    monkeypatch.setattr(type(channel), "send", send_then_terminate)
    assert deliver(queued["id"]) == "acknowledged"
    assert terminated[0] >= 1
    assert_recorded_once(service, queued["id"], "acknowledged")


@pytest.mark.parametrize("answer", ["acknowledged", "retrying"])
def test_a_record_committed_without_saying_so_is_not_recorded_again(
    service: Service, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    """The connection is lost after the server committed ``record`` but before it answered:
    the job cannot tell, and tries again. An acknowledgement stands as recorded (one receipt);
    a transient failure too: its risk (the deadline is overdue) is alerted once, not twice."""
    aware = (london_today() - dt.timedelta(days=21)).isoformat()
    queued = submit(service, make_record(date=aware, became_aware_on=aware))
    if answer == "retrying":
        service.sandbox.state.add_faults([Fault(queued["addressee"], status=503, times=1)])
    run_job(service, quick_tries=1)
    record, scope = delivering.record, service.database.session_scope
    recording: list[str] = []

    def recorded(*args: Any, **kwargs: Any) -> Any:
        recording.append("recorded")
        return record(*args, **kwargs)

    @contextmanager
    def answer_lost_after_commit() -> Iterator[Session]:
        with scope() as session:
            yield session
        if recording == ["recorded"]:  # the first record, committed: its answer is lost
            recording.append("answer lost")
            lost = ConnectionResetError("the server's answer to COMMIT never came")
            raise OperationalError("COMMIT", None, lost, connection_invalidated=True)

    monkeypatch.setattr(delivering, "record", recorded)
    monkeypatch.setattr(service.database, "session_scope", answer_lost_after_commit)
    assert deliver(queued["id"]) == answer
    assert recording[:2] == ["recorded", "answer lost"]
    outcome = "acknowledged" if answer == "acknowledged" else "transient"
    assert_recorded_once(service, queued["id"], outcome)
    with service.database.session_scope() as session:
        risks = session.scalars(
            select(AuditEntryRow).where(AuditEntryRow.action == f"alert.{alerts.DEADLINE_AT_RISK}")
        ).all()
    assert len(risks) == (1 if answer == "retrying" else 0)
