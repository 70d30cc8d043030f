"""Log lines of the long-running processes (``serve``, ``worker``, ``scheduler``), on stderr.

Without this, Python prints only warnings and errors, and only their message: an alert (DESIGN.md
§6, "a log event") read "alert delivery_failed" with nothing to say which delivery, LA or
addressee. Each line is UTC time, level, logger and message, then the facts a record carries in
``extra={"alert": {...}}`` as ``key=value``. What is logged never holds personal data (the
callers log ids, codes and counts only), and the HTTP clients' own loggers are held at WARNING:
at INFO they print every URL they call, an alert webhook's token included.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

STRUCTURED = ("alert",)
"""``extra`` keys whose mapping is written out as ``key=value`` after the message."""

QUIET = ("urllib3", "httpx", "httpcore")
"""Loggers held at WARNING whatever the level: they log URLs with their credentials."""


class LineFormatter(logging.Formatter):
    """``2026-11-27T15:58:00Z WARNING csins.alerts alert delivery_failed kind=... la_code=...``"""

    converter = time.gmtime  # type: ignore[assignment]  # UTC, as every time here

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        for key in STRUCTURED:
            facts = getattr(record, key, None)
            if isinstance(facts, Mapping):
                line += "".join(f" {name}={_value(value)}" for name, value in facts.items())
        return line


def _value(value: Any) -> str:
    """A value that stays one token: plain when it has no spaces or quotes, else JSON."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    if text and not any(c.isspace() or c in "\"'=" for c in text):
        return text
    return json.dumps(text)


def configure(level: str = "INFO") -> None:
    """One stderr handler on the root logger at ``level`` (replacing any this set before).

    Call it before RQ sets up its own logging: RQ adds a handler only where none is in effect,
    so its lines come out in this form too.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_csins", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter())
    handler._csins = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
