"""Factories for the receipt tests: delivery facts, keyrings, signed logs, files on disk."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapter.receipts import (
    GENESIS_SHA256,
    DeliveryFacts,
    SignedReceipt,
    SigningKeyring,
    issue_receipt,
)
from adapter.receipts.receipt import payload_sha256

ISSUED_AT = dt.datetime(2026, 11, 23, 10, 20, tzinfo=dt.UTC)


def make_facts(**overrides: Any) -> DeliveryFacts:
    """An acknowledged delivery of an incident notification to the Panel, on time."""
    values: dict[str, Any] = {
        "delivery_id": "dlv-0001",
        "document": "incident_notification",
        "addressee": "panel",
        "incident_reference": "NEL-2026-014",
        "local_authority_code": "812",
        "document_sha256": payload_sha256(b'{"incident":"..."}'),
        "payload_sha256": payload_sha256(b'{"payload":{"incident":"..."}}'),
        "channel": "https",
        "destination": "https://panel.example.gov.uk/api/notifications",
        "attempts": 2,
        "first_attempt_at": dt.datetime(2026, 11, 23, 10, 15, 30, tzinfo=dt.UTC),
        "acknowledged_at": dt.datetime(2026, 11, 23, 10, 16, 45, tzinfo=dt.UTC),
        "addressee_status": "202",
        "addressee_reference": "PNL-2026-5531",
        "due_on": dt.date(2026, 11, 30),
    }
    values.update(overrides)
    return DeliveryFacts(**values)


def make_keyring() -> SigningKeyring:
    return SigningKeyring(Ed25519PrivateKey.generate())


def make_log(
    size: int, keyring: SigningKeyring, *, start: int = 1, previous: str = GENESIS_SHA256
) -> list[SignedReceipt]:
    """``size`` chained receipts, sequence ``start`` onwards."""
    log: list[SignedReceipt] = []
    for sequence in range(start, start + size):
        signed = issue_receipt(
            make_facts(delivery_id=f"dlv-{sequence:04d}"),
            sequence=sequence,
            previous_receipt_sha256=previous,
            keyring=keyring,
            receipt_id=f"rcpt-{sequence:04d}",
            issued_at=ISSUED_AT,
        )
        log.append(signed)
        previous = signed.chain_hash
    return log


@pytest.fixture(scope="session")
def keyring() -> SigningKeyring:
    return make_keyring()


@pytest.fixture
def receipt(keyring: SigningKeyring) -> SignedReceipt:
    return make_log(1, keyring)[0]


@pytest.fixture
def jwks_file(tmp_path: Path, keyring: SigningKeyring) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keyring.jwks()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def jwks_server(keyring: SigningKeyring) -> Iterator[str]:
    """A local HTTP server: ``/jwks.json``, ``/huge.json`` (over the limit), else 404."""
    import http.server
    import threading

    body = json.dumps(keyring.jwks()).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/jwks.json":
                payload = body
            elif self.path == "/huge.json":
                payload = b" " * (2 * 1024 * 1024)
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/jwk-set+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
