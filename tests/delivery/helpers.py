"""Factories and small helpers shared by the delivery and sandbox tests."""

from __future__ import annotations

import base64
import datetime as dt
import socket
from typing import Any

from adapter.delivery import Delivery, QuickRetry
from adapter.delivery.factory import dev_signing_key
from adapter.delivery.https import HttpsChannel, HttpTimeouts, SandboxChannel
from adapter.delivery.signing import Scheme

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


def uploaded_document_payload(content: bytes = b"%PDF-1.7 rapid review\n") -> dict[str, Any]:
    """A payload carrying an uploaded file, as ``adapter.documents`` builds it."""
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
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
