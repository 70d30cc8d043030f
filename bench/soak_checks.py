"""The soak's end checks (``bench/soak.py``): what the database, the receiver and the receipt
log say once the clients have stopped and the outbox has drained.

Each check reads the source of truth directly (SQL on the soak's own database, the sandbox
receiver's ``GET /_sandbox/stats``, ``csins-adapter receipts audit`` as a subprocess), never
the service's API, so a bug in the API cannot hide one in the store.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from soak_load import Tally
from sqlalchemy import text
from sqlalchemy.engine import Engine

LA = "812"


@dataclass(frozen=True)
class Check:
    """One end check: what it asks, whether it passed, and the figures behind the answer."""

    name: str
    passed: bool
    figures: str


def submissions(engine: Engine, tally: Tally) -> list[Check]:
    """Every accepted submission stored once, each reference created once, each incident owed
    its deliveries."""
    with engine.connect() as connection:
        stored = {
            reference: int(count)
            for reference, count in connection.execute(
                text("SELECT reference, count(*) FROM incidents WHERE la_code = :la GROUP BY 1"),
                {"la": LA},
            )
        }
        bare = connection.scalar(
            text(
                "SELECT count(*) FROM incidents i WHERE NOT EXISTS"
                " (SELECT 1 FROM deliveries d WHERE d.incident_id = i.id)"
            )
        )
    missing = sum(1 for reference in tally.accepted if stored.get(reference, 0) == 0)
    twice = sum(1 for count in stored.values() if count > 1)
    unanswered = len(set(stored) - tally.accepted)
    created_twice = sum(1 for count in tally.created.values() if count > 1)
    repeats = sum(
        n
        for (kind, status), n in tally.statuses.items()
        if status == 200 and kind in ("resubmit", "race")
    )
    return [
        Check(
            "every accepted submission stored exactly once",
            missing == 0 and twice == 0,
            f"{len(tally.accepted)} references accepted, {len(stored)} incidents stored, "
            f"{missing} missing, {twice} stored more than once, {unanswered} stored without an "
            "accepted answer",
        ),
        Check(
            "each reference created (201) once, repeats answered 200",
            created_twice == 0,
            f"{sum(tally.created.values())} answered 201, {repeats} repeats answered 200, "
            f"{created_twice} references answered 201 more than once",
        ),
        Check("every incident has its deliveries", bare == 0, f"{bare} incidents without one"),
    ]


def deliveries(engine: Engine, receiver: dict[str, Any]) -> list[Check]:
    """Every delivery acknowledged with exactly one receipt; the receiver got each under its own
    id, answering repeats with the reference it gave first; it got nothing unknown."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT d.id, d.addressee, d.status, d.addressee_reference,"
                " (SELECT count(*) FROM receipts r WHERE r.delivery_id = d.id),"
                " (SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id = d.id)"
                " FROM deliveries d"
            )
        ).all()
    received = {name: entry["received"] for name, entry in receiver["addressees"].items()}
    statuses = Counter(row[2] for row in rows)
    receipts = Counter(int(row[4]) for row in rows)
    not_received = sum(1 for row in rows if row[0] not in received.get(row[1], {}))
    mismatched = sum(
        1
        for row in rows
        if row[0] in received.get(row[1], {}) and received[row[1]][row[0]]["reference"] != row[3]
    )
    known = {row[0] for row in rows}
    unknown = sum(1 for entries in received.values() for i in entries if i not in known)
    repeats = [e["duplicates"] for entries in received.values() for e in entries.values()]
    requests = sum(entry["requests"] for entry in receiver["addressees"].values())
    tries = sum(int(row[5]) for row in rows)
    shown = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    return [
        Check(
            "every delivery acknowledged",
            set(statuses) <= {"acknowledged"},
            f"{len(rows)} deliveries: {shown or 'none'}; {tries} tries recorded",
        ),
        Check(
            "exactly one receipt per delivery",
            set(receipts) <= {1},
            ", ".join(f"{n} with {k} receipt(s)" for k, n in sorted(receipts.items())),
        ),
        Check(
            "the receiver got every delivery under its id, and nothing unknown",
            not_received == 0 and unknown == 0,
            f"{sum(len(e) for e in received.values())} ids received in {requests} requests; "
            f"{not_received} deliveries not received, {unknown} unknown ids received",
        ),
        Check(
            "repeats at the receiver were idempotent (same reference stored)",
            mismatched == 0,
            f"{sum(repeats)} repeated sends of {sum(1 for n in repeats if n)} deliveries; "
            f"{mismatched} stored references differ from the receiver's",
        ),
    ]


def receiver_stats(sandbox_url: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{sandbox_url}/_sandbox/stats", timeout=120).json()
    return stats


def receipts_audit(env: dict[str, str], witness: Path) -> Check:
    """``csins-adapter receipts audit`` against the soak's database (and the witness file of
    checkpoints the scheduler appended, when there is one)."""
    extra = ["--checkpoint", str(witness)] if witness.exists() else []
    done = subprocess.run(
        [sys.executable, "-m", "adapter.cli", "receipts", "audit", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    said = " ".join((done.stdout if done.returncode == 0 else done.stdout + done.stderr).split())
    return Check("receipts audit passes", done.returncode == 0, f"exit {done.returncode}: {said}")


@dataclass(frozen=True)
class Marks:
    """When the faults were played (UTC), and the delivery the killed worker was running."""

    killed_at: dt.datetime | None = None
    killed_delivery: str | None = None
    redis_down: tuple[dt.datetime, dt.datetime] | None = None


def delivery_latencies(engine: Engine, marks: Marks) -> list[str]:
    """Creation-to-acknowledgement times: of every delivery, of those created while Redis was
    down (the sweep enqueued them), and of the delivery the killed worker was running."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, created_at, acknowledged_at FROM deliveries")
        ).all()
    seconds = {
        row[0]: (_utc(row[2]) - _utc(row[1])).total_seconds() for row in rows if row[2] is not None
    }
    lines = [f"every delivery: {_spread(list(seconds.values()))}"]
    if marks.redis_down is not None:
        began, ended = marks.redis_down
        during = [seconds[r[0]] for r in rows if r[0] in seconds and began <= _utc(r[1]) <= ended]
        lines.append(f"{len(during)} created while Redis was down: {_spread(during)}")
    if marks.killed_delivery is not None and marks.killed_at is not None:
        acknowledged = {row[0]: row[2] for row in rows}.get(marks.killed_delivery)
        waited = None if acknowledged is None else (_utc(acknowledged) - marks.killed_at)
        if waited is None:
            after = "never acknowledged"
        elif waited.total_seconds() < 0:
            after = "acknowledged just before the kill (the job was ending)"
        else:
            after = f"acknowledged {waited.total_seconds():.0f} s after the kill"
        lines.append(f"the killed worker's delivery {marks.killed_delivery}: {after}")
    return lines


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p50 = ordered[(len(ordered) - 1) // 2]
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return f"p50 {p50:.2f} s, p99 {p99:.2f} s, max {ordered[-1]:.1f} s"
