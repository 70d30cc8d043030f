"""Alerts reach the alert webhook once their transaction commits, and never when it rolls back;
a webhook that fails is logged and never breaks the commit or the job that raised the alert."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapter.sandbox.state import Fault
from adapter.service import alerts
from adapter.store.access_models import AuditEntryRow
from adapter.store.database import Database
from adapter.store.models import DeliveryRow
from config.settings import Settings, load_settings
from jobs.context import build_context, use_context
from jobs.deliver import deliver
from tests.delivery.helpers import free_port
from tests.support.service import Service, sample_record


class _Hook(BaseHTTPRequestHandler):
    server: _HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HookServer(ThreadingHTTPServer):
    received: list[dict[str, Any]]
    status: int


@pytest.fixture
def hook() -> Iterator[_HookServer]:
    server = _HookServer(("127.0.0.1", 0), _Hook)
    server.received = []
    server.status = 204
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def settings(hook: _HookServer, tmp_path: Path) -> Settings:
    port = hook.server_address[1]
    return load_settings(
        env={
            "CSINS_DATA_DIR": str(tmp_path),
            "CSINS_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{port}/",
        }
    )


def _raise(session: Any, settings: Settings, object_id: str) -> None:
    alerts.raise_alert(
        session,
        settings,
        alerts.DELIVERY_FAILED,
        la_code="812",
        object_type="delivery",
        object_id=object_id,
        detail={"addressee": "panel"},
    )


def test_the_webhook_hears_of_an_alert_after_its_commit(
    db: Database, settings: Settings, hook: _HookServer
) -> None:
    with db.session_scope() as session:
        _raise(session, settings, "d-1")
        _raise(session, settings, "d-2")
        assert hook.received == []  # nothing leaves before the commit
    assert [post["object_id"] for post in hook.received] == ["d-1", "d-2"]
    assert hook.received[0]["kind"] == "delivery_failed"


def test_a_rolled_back_alert_is_never_posted(
    db: Database, settings: Settings, hook: _HookServer
) -> None:
    with pytest.raises(RuntimeError), db.session_scope() as session:
        _raise(session, settings, "d-1")
        raise RuntimeError("the transaction fails")
    with db.session_scope() as session:
        assert session.scalars(select(AuditEntryRow)).all() == []
        _raise(session, settings, "d-2")
    assert [post["object_id"] for post in hook.received] == ["d-2"]


def _settings_with_webhook(tmp_path: Path, url: str) -> Settings:
    return load_settings(env={"CSINS_DATA_DIR": str(tmp_path), "CSINS_ALERT_WEBHOOK_URL": url})


def _alerts_recorded(db: Database) -> list[str]:
    with db.session_scope() as session:
        return [str(entry.object_id) for entry in session.scalars(select(AuditEntryRow))]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://[::1/alerts", "InvalidURL"),
        ("ftp://alerts.example/", "InvalidSchema"),
        (f"http://127.0.0.1:{free_port()}/", "ConnectionError"),
    ],
)
def test_an_alert_webhook_that_cannot_be_posted_to_never_breaks_the_commit(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture, url: str, error: str
) -> None:
    caplog.set_level(logging.WARNING, logger="csins.alerts")
    with db.session_scope() as session:
        _raise(session, _settings_with_webhook(tmp_path, url), "d-1")
    assert _alerts_recorded(db) == ["d-1"]
    (failure,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error in failure.getMessage()
    assert "d-1" not in failure.getMessage() and "[::1" not in failure.getMessage()


def test_a_webhook_refusing_an_alert_is_logged_as_a_warning(
    db: Database, settings: Settings, hook: _HookServer, caplog: pytest.LogCaptureFixture
) -> None:
    hook.status = 500
    caplog.set_level(logging.WARNING, logger="csins.alerts")
    with db.session_scope() as session:
        _raise(session, settings, "d-1")
        _raise(session, settings, "d-2")
    assert [post["object_id"] for post in hook.received] == ["d-1", "d-2"]  # one refusal, not all
    refusals = [r for r in caplog.records if "answered HTTP 500" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.WARNING, logging.WARNING]
    assert not any("d-1" in r.getMessage() for r in refusals)


def test_a_delivery_job_failing_a_delivery_survives_a_malformed_alert_webhook(
    service: Service,
) -> None:
    """The alert of a refused delivery is posted after the job's commit: a bad webhook URL must
    leave the delivery failed and alerted, and the job finished, not crashed."""
    response = service.post("/api/v1/incidents", service.key(), sample_record())
    assert response.status_code == 201, response.get_json()
    (queued,) = response.get_json()["deliveries"]
    service.sandbox.state.add_faults([Fault(queued["addressee"], status=400)])
    settings = dataclasses.replace(service.settings, alert_webhook_url="http://[::1/alerts")
    use_context(build_context(settings, service.database))
    assert deliver(queued["id"]) == "failed"
    with service.database.session_scope() as session:
        assert session.get_one(DeliveryRow, queued["id"]).status == "failed"
        actions = session.scalars(select(AuditEntryRow.action)).all()
    assert "alert.delivery_failed" in actions
