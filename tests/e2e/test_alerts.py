"""Alerts reach the alert webhook once their transaction commits, and never when it rolls back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapter import alerts
from adapter.store.database import Database
from adapter.store.models import AuditEntry
from config.settings import Settings, load_settings


class _Hook(BaseHTTPRequestHandler):
    server: _HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _HookServer(ThreadingHTTPServer):
    received: list[dict[str, Any]]


@pytest.fixture
def hook() -> Iterator[_HookServer]:
    server = _HookServer(("127.0.0.1", 0), _Hook)
    server.received = []
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
        assert session.scalars(select(AuditEntry)).all() == []
        _raise(session, settings, "d-2")
    assert [post["object_id"] for post in hook.received] == ["d-2"]
