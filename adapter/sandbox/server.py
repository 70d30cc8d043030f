"""The sandbox receiver: plays the four addressees over HTTP, as an https channel meets them.

``POST /<addressee>`` verifies the Standard Webhooks signature (401 when no signature matches a
trusted key; 400 when a header is missing or the timestamp is more than the tolerance away),
checks the envelope (422 when its keys or ``payload_sha256`` are wrong), then answers
``200 {"reference": "<ADDRESSEE>-<n>", "duplicate": false}``. A repeated ``webhook-id`` answers
200 with the same reference and is not counted again.

Test controls, all JSON:

- ``GET /_sandbox/stats``: per addressee the distinct ids (``count``, ``ids``), ``requests``
  (every POST, duplicates and faults included) and what was received (body SHA-256 and size);
- ``POST /_sandbox/faults`` with one fault or a list, e.g.
  ``{"addressee": "panel" | "*", "status": 503, "retry_after": 2, "delay": 0.5, "times": 2,
  "reset": false}``; ``DELETE /_sandbox/faults`` clears them;
- ``POST /_sandbox/reset``: forget what was received and every fault;
- ``GET /healthz``: 200 when listening.

Built on ``http.server`` (no framework): every response closes its connection, and a ``reset``
fault really resets it (RST), as a crashed server would.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from adapter.delivery import defaults
from adapter.delivery.envelope import check_envelope, sha256_hex
from adapter.delivery.errors import InvalidDelivery, SignatureError, WebhookHeaderError
from adapter.delivery.signing import VerifyingKey, verify_webhook
from adapter.sandbox.state import Fault, SandboxState

log = logging.getLogger(__name__)

_CONTROL = "/_sandbox/"


def dev_verifying_keys() -> tuple[VerifyingKey, ...]:
    """The keys the sandbox trusts by default: the development ``v1`` secret and ``v1a`` key."""
    return (
        VerifyingKey.parse(defaults.SANDBOX_DEV_HMAC_SECRET),
        VerifyingKey.parse(defaults.SANDBOX_DEV_PUBLIC_KEY),
    )


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server holding the sandbox's state, trusted keys and clock."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: SandboxState,
        keys: Sequence[VerifyingKey],
        *,
        tolerance_seconds: float = defaults.SANDBOX_TIMESTAMP_TOLERANCE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state = state
        self.keys = tuple(keys)
        self.tolerance_seconds = tolerance_seconds
        self.clock = clock
        self.stopping = threading.Event()
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the listening socket."""
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    server_version = "csins-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox: " + format, *args)

    # --- routing -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._json(HTTPStatus.OK, {"status": "ok"})
        elif self.path == _CONTROL + "stats":
            self._json(HTTPStatus.OK, self.server.state.stats())
        else:
            self._problem(HTTPStatus.NOT_FOUND, "no such resource")

    def do_DELETE(self) -> None:
        if self.path == _CONTROL + "faults":
            self.server.state.clear_faults()
            self._json(HTTPStatus.OK, {"faults": []})
        else:
            self._problem(HTTPStatus.NOT_FOUND, "no such resource")

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        if self.path == _CONTROL + "faults":
            self._add_faults(body)
        elif self.path == _CONTROL + "reset":
            self.server.state.reset()
            self._json(HTTPStatus.OK, {"reset": True})
        elif self.path.lstrip("/") in self.server.state.addressees:
            self._deliver(self.path.lstrip("/"), body)
        else:
            self._problem(HTTPStatus.NOT_FOUND, "no such addressee")

    # --- the addressee -----------------------------------------------------------------------

    def _deliver(self, addressee: str, body: bytes) -> None:
        state = self.server.state
        state.note_request(addressee)
        fault = state.take_fault(addressee)
        if fault is not None and self._play(fault):
            return
        try:
            scheme = verify_webhook(
                dict(self.headers.items()),
                body,
                self.server.keys,
                now=self.server.clock(),
                tolerance_seconds=self.server.tolerance_seconds,
            )
        except WebhookHeaderError as exc:
            self._problem(HTTPStatus.BAD_REQUEST, str(exc))
            return
        except SignatureError as exc:
            self._problem(HTTPStatus.UNAUTHORIZED, str(exc))
            return
        try:
            envelope = check_envelope(body)
        except InvalidDelivery as exc:
            self._problem(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
            return
        webhook_id = self.headers["webhook-id"]
        if envelope["addressee"] != addressee or envelope["delivery_id"] != webhook_id:
            self._problem(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                "envelope addressee or delivery_id does not match the request",
            )
            return
        reference, duplicate = state.receive(
            addressee,
            webhook_id,
            sha256=sha256_hex(body),
            size=len(body),
            document=str(envelope["document"]),
            scheme=scheme.value,
        )
        self._json(HTTPStatus.OK, {"reference": reference, "duplicate": duplicate})

    def _play(self, fault: Fault) -> bool:
        """Misbehave as ``fault`` says; True when the request has been dealt with."""
        if fault.delay and self.server.stopping.wait(fault.delay):
            return self._reset()
        if fault.reset:
            return self._reset()
        if fault.status is None:
            return False
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = (
                fault.retry_after
                if isinstance(fault.retry_after, str)
                else str(round(fault.retry_after))
            )
        self._problem(fault.status, "sandbox fault", headers)
        return True

    def _reset(self) -> bool:
        """Drop the connection with a TCP reset, answering nothing."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        return True

    # --- controls ----------------------------------------------------------------------------

    def _add_faults(self, body: bytes) -> None:
        try:
            raw = json.loads(body)
            items = raw if isinstance(raw, list) else [raw]
            faults = [Fault.from_json(item, self.server.state.addressees) for item in items]
        except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
            self._problem(HTTPStatus.BAD_REQUEST, str(exc))
            return
        self._json(HTTPStatus.CREATED, {"faults": self.server.state.add_faults(faults)})

    # --- plumbing ----------------------------------------------------------------------------

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._problem(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return None
        if int(length) > defaults.SANDBOX_MAX_BODY_BYTES:
            self._problem(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body too large")
            return None
        return self.rfile.read(int(length))

    def _json(
        self,
        status: int,
        document: object,
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
    ) -> None:
        payload = json.dumps(document).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.close_connection = True

    def _problem(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        self._json(
            status,
            {"title": _title(status), "status": int(status), "detail": detail},
            headers,
            "application/problem+json",
        )


def _title(status: int) -> str:
    """A problem's title: the status's reason phrase, or ``HTTP <status>`` for one that
    ``http.HTTPStatus`` does not name (a fault may ask for any status, e.g. 520)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def make_server(
    host: str = defaults.SANDBOX_HOST,
    port: int = defaults.SANDBOX_PORT,
    *,
    state_file: Path | None = None,
    keys: Sequence[VerifyingKey] | None = None,
    addressees: Sequence[str] = defaults.SANDBOX_ADDRESSEES,
    tolerance_seconds: float = defaults.SANDBOX_TIMESTAMP_TOLERANCE_SECONDS,
    clock: Callable[[], float] = time.time,
) -> SandboxServer:
    """A bound, not yet serving, sandbox receiver (``port=0``: any free port)."""
    state = SandboxState(addressees, state_file)
    return SandboxServer(
        (host, port),
        state,
        keys or dev_verifying_keys(),
        tolerance_seconds=tolerance_seconds,
        clock=clock,
    )


@dataclass
class RunningSandbox:
    """A sandbox receiver serving in a background thread; ``stop()`` (or ``with``) ends it."""

    server: SandboxServer
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: give it to the sandbox channel as ``endpoint``."""
        return self.server.base_url

    @property
    def state(self) -> SandboxState:
        """The receiver's state (the same as ``GET /_sandbox/stats`` shows)."""
        return self.server.state

    def url_for(self, addressee: str) -> str:
        """The URL at which the sandbox plays ``addressee``."""
        return f"{self.base_url}/{addressee}"

    def stop(self) -> None:
        """Stop serving, wake delayed requests, close the socket and wait for the thread."""
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_in_thread(
    host: str = defaults.SANDBOX_HOST, port: int = 0, **options: Any
) -> RunningSandbox:
    """Start a sandbox receiver in a daemon thread (default: a free port on 127.0.0.1).

    ``options`` are those of :func:`make_server` (``state_file``, ``keys``, ``addressees``,
    ``tolerance_seconds``, ``clock``).
    """
    server = make_server(host, port, **options)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": defaults.SANDBOX_POLL_INTERVAL_SECONDS},
        name=f"sandbox-receiver-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return RunningSandbox(server, thread)
