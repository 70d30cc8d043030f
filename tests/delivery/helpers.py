"""Factories and small helpers shared by the delivery and sandbox tests."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapter.delivery import Delivery, Outcome, OutcomeKind, QuickRetry
from adapter.delivery.factory import dev_signing_key
from adapter.delivery.https import HttpsChannel, HttpTimeouts, SandboxChannel
from adapter.delivery.signing import Scheme
from adapter.queue import local_redis

FIXED_NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)


def make_delivery(**overrides: Any) -> Delivery:
    """A valid delivery of an incident notification to the panel; override any field."""
    values: dict[str, Any] = {
        "delivery_id": "dlv_01JD0000000000000000000001",
        "document": "incident_notification",
        "addressee": "panel",
        "incident_reference": "NEL-2026-014",
        "local_authority": "812",
        "version": 1,
        "payload": {
            "document": "incident_notification",
            "version": 1,
            "notification": {"incident": {"reference": "NEL-2026-014", "nature": "death"}},
        },
    }
    values.update(overrides)
    return Delivery(**values)


def acknowledgement(
    now: dt.datetime, *, sent_sha256: str = "0" * 64, sent_bytes: int = 2
) -> Outcome:
    """The Panel's sandbox acknowledging a try at ``now`` (for recording it without sending)."""
    return Outcome(
        kind=OutcomeKind.ACKNOWLEDGED,
        channel="sandbox",
        destination="http://sandbox.test/panel",
        status=200,
        reference="PANEL-1",
        retry_after=None,
        detail="OK",
        sent_sha256=sent_sha256,
        sent_bytes=sent_bytes,
        tries=1,
        started_at=now,
        finished_at=now,
    )


def uploaded_document_payload(content: bytes = b"%PDF-1.7 rapid review\n") -> dict[str, Any]:
    """A payload carrying an uploaded file, as ``adapter.rules.documents`` builds it."""
    return {
        "document": "rapid_review",
        "event": {"type": "rapid_review_completed", "on": "2026-12-01"},
        "attachment": {
            "media_type": "application/pdf",
            "filename": "rapid-review.pdf",
            "content_base64": base64.b64encode(content).decode("ascii"),
        },
    }


class Sleeps:
    """A ``sleep`` that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def quick(tries: int = 3, sleeps: Sleeps | None = None) -> QuickRetry:
    """Quick tries that never really sleep."""
    return QuickRetry(tries=tries, sleep=sleeps or Sleeps())


def sandbox_channel(
    url: str,
    *,
    addressee: str = "panel",
    scheme: Scheme = Scheme.V1A,
    retry: QuickRetry | None = None,
    read_timeout: float = 5.0,
    https: bool = False,
) -> HttpsChannel:
    """A channel to the sandbox at ``url`` signing with the development key of ``scheme``."""
    channel_class = HttpsChannel if https else SandboxChannel
    return channel_class(
        addressee,
        url,
        signing_keys=[dev_signing_key(scheme)],
        timeouts=HttpTimeouts(connect=2.0, read=read_timeout, write=2.0, pool=2.0),
        retry=retry or quick(),
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now), below the ephemeral range."""
    return local_redis.free_port()


class _ScriptedHandler(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``answer``: a status, a media type and a body, with
    the server's ``reason`` phrase and extra ``headers``; keeps the bodies it got."""

    server: ScriptedAddressee
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.server.received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        self.server.requests += 1
        status, media_type, body = self.server.answer
        self.send_response(status, self.server.reason)
        for name, value in self.server.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ScriptedAddressee(ThreadingHTTPServer):
    """An addressee on 127.0.0.1 that answers whatever a test sets, bodies the sandbox never sends.

    ``with ScriptedAddressee() as addressee:`` serves in a thread (over TLS when given a server
    context); set ``answer`` (and, if need be, ``reason`` and ``headers``) before sending.
    """

    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self.answer: tuple[int, str, bytes] = (204, "application/json", b"")
        self.reason: str | None = None
        """The reason phrase of the status line; None for the standard one."""
        self.headers: dict[str, str] = {}
        """Headers sent besides ``Content-Type``, ``Content-Length`` and ``Connection``."""
        self.received: list[bytes] = []
        """The bodies of the requests, in order."""
        self.requests = 0
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        """The endpoint to give a channel."""
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/csins"

    def __enter__(self) -> ScriptedAddressee:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()
