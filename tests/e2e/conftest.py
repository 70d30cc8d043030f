"""The whole service with real processes: ``csins-adapter worker`` subprocesses, real Redis, the
module's database (SQLite, and PostgreSQL when ``DATABASE_URL`` names one) and a real sandbox
receiver on a free loopback port.

The web side runs in the test process (Flask's test client); workers are real subprocesses
reading the same database and Redis. Policy and channel timeouts are shortened through a
``CSINS_CONFIG_DIR`` of the test's own, so that retries come after a second, a ``sending``
delivery counts as stuck after two, and a receiver that does not answer times out after two.
Every wait polls the database with a bounded timeout: no test asserts how long anything took.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select

from adapter.app import create_app
from adapter.clock import utcnow
from adapter.queue import RqPublisher
from adapter.receipts.log import audit_log
from adapter.sandbox import Fault, RunningSandbox, start_in_thread
from adapter.service import casework
from adapter.store.access_models import AuditEntryRow
from adapter.store.api_keys import Principal, create_key
from adapter.store.database import Database
from adapter.store.models import DeliveryAttemptRow, DeliveryRow, ObligationRow
from adapter.store.publishing import NoPublisher
from adapter.store.receipt_models import ReceiptRow
from config.settings import Settings, load_settings
from jobs.context import build_context, use_context
from tests.support.service import sample_record

WAIT_SECONDS = 30.0
"""Longest any state is waited for before the test fails (it normally takes well under 5 s)."""

POLICY_YAML = """\
quick_tries: 1
retry_schedule_seconds: [1]
stuck_delivery_seconds: 2
stuck_import_seconds: 2
"""
"""Short policy: one try per job, the next job a second later, ``sending`` (and an import's
run that has stopped writing) stuck after 2 s."""

CHANNEL_TIMEOUT_SECONDS = 2
"""Connect, write and read timeout of every addressee's channel in these tests (a test may
parametrize the ``channel_timeout`` fixture to change it)."""

ADDRESSEES = ("panel", "secretary_of_state", "ofsted", "dfe")

_references = itertools.count(1)


def addressees_yaml(timeout: float = CHANNEL_TIMEOUT_SECONDS) -> str:
    entries = []
    for name in ADDRESSEES:
        entries.append(
            f"{name}:\n"
            f"  channel: sandbox\n"
            f"  endpoint_env: CSINS_SANDBOX_URL\n"
            f"  signing: {'v1' if name == 'dfe' else 'v1a'}\n"
            f"  connect_timeout_seconds: {timeout}\n"
            f"  read_timeout_seconds: {timeout}\n"
            f"  write_timeout_seconds: {timeout}\n"
        )
    return "".join(entries)


def make_record(*, looked_after: bool = False, **incident: Any) -> dict[str, Any]:
    """The sample record under a fresh reference. A looked-after child's death is also owed to
    the Secretary of State and Ofsted: three deliveries instead of one (DESIGN.md §4)."""
    record = copy.deepcopy(sample_record())
    record["incident"]["reference"] = f"E2E-{os.getpid()}-{next(_references)}"
    record["incident"].update(incident)
    record["children"][0]["looked_after"] = looked_after
    return record


@dataclass
class WorkerProcess:
    """A ``csins-adapter worker`` in its own session (its RQ scheduler is forked into it too)."""

    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL the worker and everything it forked: a machine or container dying."""
        self.stop()

    def stop(self) -> None:
        """Stop it and its scheduler fork for good (Redis and the tables are emptied next, so
        a warm shutdown would only cost time)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    """The service under test, with helpers to drive it and to check what it did."""

    settings: Settings
    database: Database
    client: FlaskClient
    sandbox: RunningSandbox
    redis: Redis
    env: dict[str, str]
    tmp_path: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    # --- driving -----------------------------------------------------------------------------

    def key(self, role: str = "local_authority", la: str = "812") -> str:
        with self.database.session_scope() as session:
            return create_key(session, la_code=la, role=role).key

    def submit(self, record: dict[str, Any], key: str | None = None) -> list[str]:
        """POST an incident as a case system does; the ids of the deliveries it queued."""
        response = self.client.post(
            "/api/v1/incidents",
            json=record,
            headers={"Authorization": f"Bearer {key or self.key()}"},
        )
        assert response.status_code == 201, response.get_json()
        return self.delivery_ids(response.get_json()["id"])

    def commit_only(self, record: dict[str, Any]) -> list[str]:
        """Store an incident exactly as the API does, but never enqueue its deliveries: the web
        process died right after its commit."""
        publisher, self.database.publisher = self.database.publisher, NoPublisher()
        try:
            return self._commit(record)
        finally:
            self.database.publisher = publisher

    def _commit(self, record: dict[str, Any]) -> list[str]:
        with self.database.session_scope() as session:
            new_key = create_key(session, la_code="812", role="local_authority")
            principal = Principal(new_key.key_id, "812", "local_authority")
            done = casework.submit(
                session,
                self.database.keyring,
                self.settings.policy,
                principal,
                record,
                now=utcnow(),
            )
            return [delivery.id for delivery in done.deliveries]

    def fault(self, **fault: Any) -> None:
        """Make the receiver misbehave (see :class:`adapter.sandbox.Fault`)."""
        self.sandbox.state.add_faults([Fault(**fault)])

    def start_worker(self) -> WorkerProcess:
        number = len(self.workers) + 1
        return self.start_process(f"worker-{number}", "worker", "--name", f"e2e-{number}")

    def start_process(self, log_name: str, *command: str) -> WorkerProcess:
        """``csins-adapter COMMAND`` in its own session, its output in ``LOG_NAME.log``;
        watched by :meth:`wait_for` and stopped with the stack."""
        log_path = self.tmp_path / f"{log_name}.log"
        with open(log_path, "wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "adapter.cli", *command],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started = WorkerProcess(process, log_path)
        self.workers.append(started)
        return started

    def sweep(self) -> int:
        """Run the sweeper once, in this process, as ``rq cron`` would have a worker run it."""
        from jobs.maintenance import sweep

        use_context(build_context(self.settings, self.database))
        try:
            return sweep()
        finally:
            use_context(None)

    def check_deadlines(self) -> int:
        """Run the deadline check once, in this process, as ``rq cron`` would."""
        from jobs.maintenance import check_deadlines

        use_context(build_context(self.settings, self.database))
        try:
            return check_deadlines()
        finally:
            use_context(None)

    # --- observing ---------------------------------------------------------------------------

    def deliveries(self, ids: Sequence[str]) -> list[DeliveryRow]:
        with self.database.session_scope() as session:
            rows = session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(ids))).all()
            return sorted(rows, key=lambda row: ids.index(row.id))

    def delivery_ids(self, incident_id: str) -> list[str]:
        with self.database.session_scope() as session:
            return list(
                session.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.incident_id == incident_id)
                    .order_by(DeliveryRow.created_at, DeliveryRow.id)
                )
            )

    def attempts(self, delivery_id: str) -> list[DeliveryAttemptRow]:
        with self.database.session_scope() as session:
            return list(
                session.scalars(
                    select(DeliveryAttemptRow)
                    .where(DeliveryAttemptRow.delivery_id == delivery_id)
                    .order_by(DeliveryAttemptRow.number)
                )
            )

    def alerts(self, kind: str) -> list[AuditEntryRow]:
        with self.database.session_scope() as session:
            return list(
                session.scalars(
                    select(AuditEntryRow).where(AuditEntryRow.action == f"alert.{kind}")
                )
            )

    def requests(self, addressee: str) -> int:
        """Requests the receiver had for ``addressee``, faults and repeats included."""
        return int(self.sandbox.state.stats()["addressees"][addressee]["requests"])

    def wait_for(
        self, condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS
    ) -> Any:
        """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
        deadline = time.monotonic() + timeout
        while True:
            for worker in self.workers:
                if worker.process.poll() not in (None, -signal.SIGKILL):
                    pytest.fail(f"a worker exited while waiting for {what}:\n{worker.log_tail()}")
            found = condition()
            if found:
                return found
            if time.monotonic() > deadline:
                logs = "\n".join(worker.log_tail() for worker in self.workers)
                pytest.fail(f"gave up waiting for {what}\n--- worker logs ---\n{logs}")
            time.sleep(0.05)

    def wait_status(self, ids: Sequence[str], *statuses: str) -> list[DeliveryRow]:
        def reached() -> list[DeliveryRow] | None:
            rows = self.deliveries(ids)
            return rows if all(row.status in statuses for row in rows) else None

        found: list[DeliveryRow] = self.wait_for(reached, f"deliveries {statuses}: {list(ids)}")
        return found

    def wait_acknowledged(self, ids: Sequence[str]) -> list[DeliveryRow]:
        return self.wait_status(ids, "acknowledged")

    # --- the invariants of DESIGN.md §2, §6 --------------------------------------------------

    def assert_delivered_once(self, ids: Sequence[str]) -> None:
        """Each delivery acknowledged, received by its addressee under exactly one
        ``webhook-id`` (repeats of that id allowed), one receipt, and its obligation met (or met
        late) at the acknowledgement time; the receipt chain verifies."""
        stats = self.sandbox.state.stats()["addressees"]
        with self.database.session_scope() as session:
            rows = session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(ids))).all()
            assert sorted(row.id for row in rows) == sorted(ids)
            for row in rows:
                assert row.status == "acknowledged", (row.id, row.status, row.last_error)
                assert row.acknowledged_at is not None
                assert row.id in stats[row.addressee]["ids"]
                assert stats[row.addressee]["received"][row.id]["document"] == row.document
                receipts = session.scalars(
                    select(ReceiptRow).where(ReceiptRow.delivery_id == row.id)
                ).all()
                assert len(receipts) == 1, f"{row.id} has {len(receipts)} receipts"
                assert receipts[0].acknowledged_at == row.acknowledged_at
                if row.obligation_id is not None:
                    obligation = session.get_one(ObligationRow, row.obligation_id)
                    assert obligation.status in ("met", "met_late"), obligation.status
                    assert obligation.acknowledged_at == row.acknowledged_at
            # Nothing was received that the database does not know as a delivery.
            received = {i for entry in stats.values() for i in entry["ids"]}
            known = set(session.scalars(select(DeliveryRow.id)))
            assert received <= known
            result = audit_log(session, build_context(self.settings, self.database).signer)
            assert result.first_break is None, result.first_break


@pytest.fixture(scope="session")
def e2e_redis(redis_url: str) -> str:
    """This test run's own Redis server (:func:`tests.support.service.redis_url`): no other
    run's workers can take its jobs, and its flushes empty no one else's queues."""
    return redis_url


@pytest.fixture
def channel_timeout() -> float:
    """Seconds each channel waits for the receiver (parametrize it to change it for a test)."""
    return CHANNEL_TIMEOUT_SECONDS


@pytest.fixture
def config_dir(tmp_path: Path, channel_timeout: float) -> Path:
    """A ``CSINS_CONFIG_DIR`` with the short policy and every addressee on the sandbox."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY_YAML, encoding="utf-8")
    (folder / "addressees.yaml").write_text(addressees_yaml(channel_timeout), encoding="utf-8")
    return folder


@pytest.fixture
def stack(
    db: Database, test_key: bytes, config_dir: Path, tmp_path: Path, e2e_redis: str
) -> Iterator[Stack]:
    """The service on the module's database, its own Redis db, receiver and config; every
    worker started is stopped afterwards."""
    redis = Redis.from_url(e2e_redis)
    redis.flushdb()
    data_dir = tmp_path / "data"
    with start_in_thread(port=0) as sandbox:
        env = {
            "CSINS_DATA_DIR": str(data_dir),
            "CSINS_CONFIG_DIR": str(config_dir),
            "REDIS_URL": e2e_redis,
            "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
            "CSINS_SANDBOX_URL": sandbox.base_url,
            "CSINS_ENCRYPTION_KEYS": f"test-1:{base64.b64encode(test_key).decode()}",
        }
        settings = load_settings(env=env)
        app = create_app(settings=settings)
        app.extensions["csins"].database = db  # share the module's pool and keyring
        db.publisher = RqPublisher(settings)  # as the app's own database publishes
        process_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
            **env,
            "PYTHONUNBUFFERED": "1",
            # A process that hangs can be made to print every thread's stack (SIGABRT).
            "PYTHONFAULTHANDLER": "1",
        }
        stack = Stack(settings, db, app.test_client(), sandbox, redis, process_env, tmp_path)
        try:
            yield stack
        finally:
            db.publisher = NoPublisher()
            for worker in stack.workers:
                worker.stop()
            use_context(None)
            redis.flushdb()
            redis.close()
