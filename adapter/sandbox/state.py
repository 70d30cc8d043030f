"""The sandbox receiver's memory: what each addressee received, and the faults it is told to play.

Held in a dict behind a lock. Given a file, every change is read from and written back to it
under an exclusive ``flock``, so several processes (a test, a worker, a restarted receiver) see
one state. Layout, also the shape of ``GET /_sandbox/stats``::

    {"addressees": {"panel": {"count": 1, "requests": 3, "ids": ["d1"],
                              "received": {"d1": {"reference": "PANEL-1", "sha256": "...",
                                                  "size": 512, "document": "...",
                                                  "scheme": "v1a", "duplicates": 1}}}},
     "faults": [{"addressee": "*", "status": 503, "times": 2, ...}]}
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ANY_ADDRESSEE = "*"
"""A fault's ``addressee`` that matches every addressee."""


@dataclass(frozen=True)
class Fault:
    """One way for the sandbox to misbehave, for ``times`` requests (None: until cleared).

    ``delay`` (seconds) is waited first; then ``reset`` drops the connection without an answer,
    or ``status`` (with ``Retry-After: retry_after`` when given: seconds, or a text sent as is)
    is answered; a fault with only a delay then answers normally.
    """

    addressee: str = ANY_ADDRESSEE
    status: int | None = None
    retry_after: float | str | None = None
    delay: float = 0.0
    times: int | None = None
    reset: bool = False

    @classmethod
    def from_json(cls, data: object, addressees: Sequence[str]) -> Fault:
        """A fault from its JSON form; :class:`ValueError` names the bad field."""
        if not isinstance(data, Mapping):
            raise ValueError("a fault is a JSON object")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        addressee = data.get("addressee", ANY_ADDRESSEE)
        if addressee != ANY_ADDRESSEE and addressee not in addressees:
            raise ValueError(f"addressee: expected '*' or one of {', '.join(addressees)}")
        status = data.get("status")
        if status is not None and (not _is_int(status) or not 200 <= status <= 599):
            # 1xx is informational, never the final answer a client waits for
            raise ValueError("status: expected a final HTTP status code, 200 to 599")
        retry_after = data.get("retry_after")
        if (
            retry_after is not None
            and not isinstance(retry_after, str)
            and not _is_number(retry_after)
        ):
            raise ValueError("retry_after: expected seconds or an HTTP-date")
        delay = data.get("delay", 0.0)
        if not _is_number(delay) or delay < 0:
            raise ValueError("delay: expected seconds >= 0")
        times = data.get("times")
        if times is not None and (not _is_int(times) or times < 1):
            raise ValueError("times: expected a whole number >= 1")
        reset = data.get("reset", False)
        if not isinstance(reset, bool):
            raise ValueError("reset: expected true or false")
        if status is None and not reset and not delay:
            raise ValueError("a fault needs a status, a delay or reset")
        return cls(addressee, status, retry_after, float(delay), times, reset)

    def matches(self, addressee: str) -> bool:
        """True when this fault applies to requests for ``addressee``."""
        return self.addressee in (ANY_ADDRESSEE, addressee)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class SandboxState:
    """Counts, deduplication and faults of the sandbox, in memory and optionally in a file."""

    def __init__(self, addressees: Sequence[str], path: Path | None = None) -> None:
        self.addressees = tuple(addressees)
        self.path = path
        self._lock = threading.Lock()
        self._data = self._empty()
        if path is not None:  # load what is there, or create the file for other processes
            with self._transaction():
                pass

    def _empty(self) -> dict[str, Any]:
        return {
            "addressees": {name: {"requests": 0, "received": {}} for name in self.addressees},
            "faults": [],
        }

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            if self.path is None:
                yield self._data
                return
            lock_path = self.path.with_name(self.path.name + ".lock")
            with open(lock_path, "a+b") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    if self.path.exists() and self.path.stat().st_size:
                        loaded = json.loads(self.path.read_text(encoding="utf-8"))
                        self._data = self._empty()
                        self._data["faults"] = loaded.get("faults", [])
                        for name, entry in loaded.get("addressees", {}).items():
                            if name in self._data["addressees"]:
                                self._data["addressees"][name] = entry
                    yield self._data
                    temporary = self.path.with_name(self.path.name + ".tmp")
                    temporary.write_text(json.dumps(self._data), encoding="utf-8")
                    os.replace(temporary, self.path)
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def note_request(self, addressee: str) -> None:
        """Count one request for ``addressee`` (duplicates and faulted ones included)."""
        with self._transaction() as data:
            data["addressees"][addressee]["requests"] += 1

    def take_fault(self, addressee: str) -> Fault | None:
        """The first fault for ``addressee``, using up one of its ``times``."""
        with self._transaction() as data:
            for index, raw in enumerate(data["faults"]):
                fault = Fault(**raw)
                if not fault.matches(addressee):
                    continue
                if fault.times is not None:
                    if fault.times <= 1:
                        del data["faults"][index]
                    else:
                        raw["times"] = fault.times - 1
                return fault
        return None

    def add_faults(self, faults: Sequence[Fault]) -> list[dict[str, Any]]:
        """Append faults (checked first to last); return all current faults."""
        with self._transaction() as data:
            data["faults"].extend(asdict(fault) for fault in faults)
            return list(data["faults"])

    def clear_faults(self) -> None:
        """Forget every fault: the sandbox behaves again."""
        with self._transaction() as data:
            data["faults"] = []

    def reset(self) -> None:
        """Forget everything received and every fault."""
        with self._transaction() as data:
            fresh = self._empty()
            data["addressees"] = fresh["addressees"]
            data["faults"] = []

    def receive(
        self, addressee: str, webhook_id: str, *, sha256: str, size: int, document: str, scheme: str
    ) -> tuple[str, bool]:
        """Record a verified delivery once per ``webhook_id``: ``(reference, was it a repeat)``."""
        with self._transaction() as data:
            received: dict[str, Any] = data["addressees"][addressee]["received"]
            if webhook_id in received:
                received[webhook_id]["duplicates"] += 1
                return received[webhook_id]["reference"], True
            reference = f"{addressee.upper()}-{len(received) + 1}"
            received[webhook_id] = {
                "reference": reference,
                "sha256": sha256,
                "size": size,
                "document": document,
                "scheme": scheme,
                "duplicates": 0,
            }
            return reference, False

    def stats(self) -> dict[str, Any]:
        """Per addressee: distinct ids received (``count``, ``ids``), ``requests``, details."""
        with self._transaction() as data:
            return {
                "addressees": {
                    name: {
                        "count": len(entry["received"]),
                        "ids": list(entry["received"]),
                        "requests": entry["requests"],
                        "received": json.loads(json.dumps(entry["received"])),
                    }
                    for name, entry in data["addressees"].items()
                },
                "faults": list(data["faults"]),
            }
