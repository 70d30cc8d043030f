"""The whole service under test: settings, database, app, keys, sandbox receiver and worker.

``service`` builds on the ``db`` fixture of :mod:`tests.support.databases` (SQLite, and
PostgreSQL when ``DATABASE_URL`` names one), a Redis server of this test run alone (flushed
around each test), and a sandbox receiver on a free loopback port that every addressee points at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker

from adapter.app import create_app
from adapter.queue import RqPublisher, local_redis
from adapter.sandbox import RunningSandbox, start_in_thread
from adapter.store.api_keys import create_key
from adapter.store.database import Database
from adapter.store.publishing import NoPublisher
from config.settings import Settings, load_settings
from jobs.context import WorkerContext, build_context, use_context

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "config" / "examples"
ASSISTED = EXAMPLES / "assisted.yaml"
"""Notifications as assisted submissions (``csins``), every other document to the sandbox."""


def sample_record() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SAMPLES / "incident.json").read_text(encoding="utf-8"))
    return loaded


class BurstWorker(SimpleWorker):
    """RQ's worker in this process, without its command channel: a burst that ends before its
    pub/sub thread has subscribed makes RQ's teardown wait a minute for it."""

    def subscribe(self) -> None:
        return None

    def unsubscribe(self) -> None:
        return None


@dataclass
class Service:
    settings: Settings
    database: Database
    app: Flask
    client: FlaskClient
    sandbox: RunningSandbox
    redis: Redis
    _context: WorkerContext | None = field(default=None, repr=False)

    def key(self, role: str = "local_authority", la: str = "812") -> str:
        """A new API key of ``role`` for LA ``la`` ("*" for a cross-LA admin)."""
        with self.database.session_scope() as session:
            return create_key(session, la_code=la, role=role).key

    def headers(self, key: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", **extra}

    def post(self, path: str, key: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.headers(key, **headers))

    def get(self, path: str, key: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(key), query_string=params)

    def work(self, *queues: str) -> None:
        """Run every queued job (of ``queues``, by default all) in this process until the
        queues are empty (RQ burst mode)."""
        from adapter.queue import ALL_QUEUES, SERIALIZER

        if self._context is None:
            self._context = build_context(self.settings, self.database)
        use_context(self._context)
        BurstWorker(list(queues or ALL_QUEUES), connection=self.redis, serializer=SERIALIZER).work(
            burst=True, with_scheduler=False
        )

    def run_imports(self) -> None:
        """Run the imports queued (their deliveries stay queued)."""
        from adapter.queue import IMPORTS

        self.work(IMPORTS)


def route_by(service: Service, addressees_file: Path) -> Service:
    """Give the service (its app and its worker) the routes of ``addressees_file``, as
    ``CSINS_ADDRESSEES_FILE`` does for a deployment."""
    from adapter.delivery.routes import Routes

    settings = load_settings(
        env={**service.settings.environ, "CSINS_ADDRESSEES_FILE": str(addressees_file)}
    )
    service.settings = settings
    resources = service.app.extensions["csins"]
    resources.settings, resources.routes = settings, Routes(settings.addressees)
    service._context = None
    return service


@pytest.fixture
def assisted(service: Service) -> Service:
    """The service with notifications routed to ``csins``: tasks for a person."""
    return route_by(service, ASSISTED)


def service_settings(
    tmp_path: Path,
    database_url: str,
    sandbox_url: str,
    redis_url: str,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings of the service under test: its data dir, database, Redis and sandbox."""
    settings = load_settings(
        env={
            "CSINS_DATA_DIR": str(tmp_path),
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "CSINS_SANDBOX_URL": sandbox_url,
            **(env or {}),
        }
    )
    return settings


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server of this test run alone, on a free port, stopped at the end of the run.

    A fixed database on a shared server would let another test run's worker (or its FLUSHDB)
    take this run's jobs.
    """
    process, url = local_redis.start(tmp_path_factory.mktemp("redis"), local_redis.free_port())
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def service(db: Database, tmp_path: Path, redis_url: str) -> Iterator[Service]:
    """The service on the module's database, with the run's Redis and a sandbox receiver."""
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    with start_in_thread(port=0) as sandbox:
        settings = service_settings(
            tmp_path,
            db.engine.url.render_as_string(hide_password=False),
            sandbox.base_url,
            redis_url,
        )
        app = create_app(settings=settings)
        # Share the module's database (and its keyring) rather than open a second pool.
        app.extensions["csins"].database = db
        db.publisher = RqPublisher(settings)  # as the app's own database publishes
        try:
            yield Service(settings, db, app, app.test_client(), sandbox, redis)
        finally:
            db.publisher = NoPublisher()
    use_context(None)
    redis.flushdb()


def hand_over_to_a_person(service: Service, incident_id: str) -> None:
    """Mark an incident's waiting deliveries as handed over to a person (routed to ``csins``),
    as the worker does for a notification routed there, without routing the whole service."""
    from sqlalchemy import update

    from adapter.store.models import DeliveryRow

    with service.database.session_scope() as session:
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.incident_id == incident_id, DeliveryRow.status == "queued")
            .values(channel="csins", next_attempt_at=None)
        )
