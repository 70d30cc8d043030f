"""Benchmark of delivery through real workers against what a delivery cannot avoid (§2, §6).

Run ``.venv/bin/python bench/deliver.py [--deliveries 2000] [--workers 2] [--idle 50]
[--backend postgresql|sqlite]``. In a throwaway database (PostgreSQL at ``DATABASE_URL``, or the
local server, when it answers; else SQLite), a private Redis database and a sandbox receiver
subprocess, it measures:

- the baseline: ``--deliveries`` RQ jobs through ``--workers`` ``SimpleWorker`` processes, each
  sending one envelope of the same payload through the same channel and HTTP client to the same
  sandbox receiver (``bench/deliver_baseline.py``): the HTTP and the receiver's CPU are in both,
  the database and the service's bookkeeping only in the loaded phase;
- loaded: as many delivery rows (a few incidents, spread over the four addressees), enqueued at
  once and delivered by ``--workers`` ``csins-adapter worker`` processes (also SimpleWorker);
  throughput, and submit-to-acknowledgement latency (``acknowledged_at - created_at``);
- idle: ``--idle`` incidents submitted one at a time (``casework.submit`` then the enqueue the
  API does), each waited for; submit-to-acknowledgement latency.

Throughput is jobs from the first enqueue to the last one done, for both. Targets: delivery
throughput at least half the baseline's, and idle submit-to-acknowledgement p99 under 2 s.
Everything it starts is stopped, and its database, Redis db and files are removed, even on error.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from redis import Redis  # noqa: E402
from rq import Queue  # noqa: E402
from rq.registry import FinishedJobRegistry  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from stack import (  # noqa: E402
    Environment,
    Processes,
    cpu_seconds,
    database_backends,
    percentile,
    print_log_tails,
    start_service,
    start_workers,
    throwaway_database,
    wait_until,
)

from adapter.clock import utcnow  # noqa: E402
from adapter.queue import (  # noqa: E402
    enqueue_deliveries,
    local_redis,
)
from adapter.service import casework  # noqa: E402
from adapter.store import outbox  # noqa: E402
from adapter.store.api_keys import Principal, create_key  # noqa: E402  # noqa: E402
from adapter.store.database import Database  # noqa: E402
from adapter.store.models import DeliveryRow, IncidentRow  # noqa: E402

REDIS_BENCH_URL = "redis://127.0.0.1:6379/11"
"""The Redis database the benchmark owns (flushed before and after)."""

ADDRESSEES = ("panel", "secretary_of_state", "ofsted", "dfe")
BASELINE_QUEUE = "bench-noop"

BASELINE_WORKER = f"""
import sys
sys.path.insert(0, {str(REPO / "bench")!r})
from redis import Redis
from rq import SimpleWorker
SimpleWorker([sys.argv[2]], connection=Redis.from_url(sys.argv[1]), name=sys.argv[3]).work(
    with_scheduler=True, logging_level="WARNING"
)
"""


def baseline(
    environment: Environment,
    processes: Processes,
    count: int,
    workers: int,
    sample: tuple[bytes, str],
) -> tuple[float, float]:
    """Envelopes sent per second by plain RQ jobs through ``workers`` SimpleWorker processes
    (``sample``: the payload the deliveries carry, and its incident's reference), and the
    workers' CPU milliseconds per job."""
    redis = environment.redis
    started = start_workers(
        processes,
        redis,
        workers,
        lambda name: [sys.executable, "-c", BASELINE_WORKER, REDIS_BENCH_URL, BASELINE_QUEUE, name],
        environment.env,
    )
    queue = Queue(BASELINE_QUEUE, connection=redis)
    finished = FinishedJobRegistry(BASELINE_QUEUE, connection=redis)
    pids = [process.pid for process in started]
    cpu = cpu_seconds(pids)
    began = time.perf_counter()
    payload, reference = sample
    for number in range(count):
        addressee = ADDRESSEES[number % len(ADDRESSEES)]
        queue.enqueue("deliver_baseline.post", payload, addressee, reference)
    wait_until(lambda: finished.count >= count, "the baseline's envelopes")
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(pids) - cpu
    processes.stop(started)
    return count / elapsed, cpu / count * 1000


def seed_incidents(environment: Environment, count: int, prefix: str) -> list[str]:
    """``count`` incidents submitted as the API would (the first delivery of each queued)."""
    database, settings = environment.database, environment.settings
    record = json.loads((REPO / "tests" / "samples" / "incident.json").read_text("utf-8"))
    submitted: list[str] = []
    with database.session_scope() as session:
        key = create_key(session, la_code="812", role="local_authority")
    principal = Principal(key.key_id, "812", "local_authority")
    for number in range(count):
        body = copy.deepcopy(record)
        body["incident"]["reference"] = f"{prefix}-{number}"
        with database.session_scope() as session:
            done = casework.submit(
                session, database.keyring, settings.policy, principal, body, now=utcnow()
            )
            submitted += [delivery.id for delivery in done.deliveries]
    return submitted


def sample_payload(environment: Environment) -> tuple[bytes, str]:
    """The payload the loaded phase's deliveries carry, and its incident's reference."""
    database = environment.database
    (first, *_) = seed_incidents(environment, 1, "BENCH-SAMPLE")
    with database.session_scope() as session:
        seed = session.get_one(DeliveryRow, first)
        incident = session.get_one(IncidentRow, seed.incident_id)
        return outbox.delivery_payload(database.keyring, seed), incident.reference


def bulk_deliveries(environment: Environment, count: int) -> list[tuple[str, str]]:
    """``count`` outbox rows on a few incidents, spread over the four addressees."""
    database = environment.database
    first = seed_incidents(environment, len(ADDRESSEES), "BENCH-LOAD")
    rows: list[tuple[str, str]] = []
    with database.session_scope() as session:
        seeds = list(session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(first))))
        payload = outbox.delivery_payload(database.keyring, seeds[0])
        rows += [(seed.id, seed.addressee) for seed in seeds]
        incidents = [seed.incident_id for seed in seeds]
        loaded = {
            row.id: row
            for row in session.scalars(select(IncidentRow).where(IncidentRow.id.in_(incidents)))
        }
        for number in range(count - len(rows)):
            addressee = ADDRESSEES[number % len(ADDRESSEES)]
            delivery = outbox.enqueue_delivery(
                session,
                database.keyring,
                incident=loaded[incidents[number % len(incidents)]],
                document="amendment",
                addressee=addressee,
                payload=payload,
            )
            rows.append((delivery.id, addressee))
    return rows


def acknowledged_count(database: Database, ids: list[str] | None = None) -> int:
    with database.session_scope() as session:
        statement = (
            select(func.count())
            .select_from(DeliveryRow)
            .where(DeliveryRow.status == "acknowledged")
        )
        if ids is not None:
            statement = statement.where(DeliveryRow.id.in_(ids))
        return int(session.scalar(statement) or 0)


def latencies(database: Database, ids: list[str]) -> list[float]:
    with database.session_scope() as session:
        rows = session.execute(
            select(DeliveryRow.created_at, DeliveryRow.acknowledged_at).where(
                DeliveryRow.id.in_(ids)
            )
        ).all()
    return [
        (acknowledged - created).total_seconds()
        for created, acknowledged in rows
        if acknowledged is not None
    ]


@dataclass
class Loaded:
    rate: float
    """Deliveries per second."""
    latencies: list[float]
    """Submit-to-acknowledgement seconds of each delivery."""
    cpu_ms: dict[str, float]
    """CPU milliseconds per delivery: the workers, the receiver, the database server."""


def loaded(environment: Environment, processes: Processes, count: int, workers: int) -> Loaded:
    """Deliveries per second through ``workers`` real workers, each one's latency, and where
    the CPU went."""
    rows = bulk_deliveries(environment, count)
    database = environment.database
    started = start_workers(
        processes,
        environment.redis,
        workers,
        lambda name: [sys.executable, "-m", "adapter.cli", "worker", "--name", name],
        environment.env,
    )
    groups = {"workers": [p.pid for p in started], "receiver": [environment.receiver_pid]}
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    began = time.perf_counter()
    enqueue_deliveries(environment.settings, rows)
    wait_until(lambda: acknowledged_count(database) >= count, "the deliveries", interval=0.25)
    elapsed = time.perf_counter() - began
    cpu_ms = {
        name: (cpu_seconds(pids) - before[name]) / count * 1000 for name, pids in groups.items()
    }
    # The workers' connections opened with their first job: their whole CPU is this phase's.
    cpu_ms["database"] = cpu_seconds(database_backends(database)) / count * 1000
    return Loaded(count / elapsed, latencies(database, [row[0] for row in rows]), cpu_ms)


def idle(environment: Environment, count: int) -> list[float]:
    """Submit-to-acknowledgement latency of ``count`` incidents submitted one at a time."""
    found: list[float] = []
    for number in range(count):
        ids = seed_incidents(environment, 1, f"BENCH-IDLE-{number}")
        enqueue_deliveries(environment.settings, [(ids[0], "panel")])

        def delivered(ids: list[str] = ids) -> bool:
            return acknowledged_count(environment.database, ids) == len(ids)

        wait_until(delivered, "an idle delivery", interval=0.01)
        found += latencies(environment.database, ids)
    return found


# --- main ----------------------------------------------------------------------------------


def report_loaded(result: Loaded, base_rate: float) -> None:
    """The loaded phase's rate against the baseline's, its latency, and where the CPU went."""
    cpu = result.cpu_ms
    print(
        f"  loaded    deliveries          {result.rate:8.1f} deliveries/s"
        f"  ({result.rate / base_rate:.2f} x baseline; target >= 0.50)\n"
        f"            submit-to-ack       p50 {percentile(result.latencies, 0.5):.3f} s"
        f"   p99 {percentile(result.latencies, 0.99):.3f} s\n"
        f"            CPU per delivery    workers {cpu['workers']:.1f} ms, receiver "
        f"{cpu['receiver']:.1f} ms, database server {cpu['database']:.1f} ms",
        flush=True,
    )


def phases(environment: Environment, processes: Processes, options: argparse.Namespace) -> bool:
    """The baseline, loaded and idle phases, each printed as it ends: whether the targets
    were met."""
    print(
        f"deliver benchmark: {options.deliveries} deliveries, {options.workers} "
        f"workers (SimpleWorker), {environment.database.dialect}, Redis {REDIS_BENCH_URL}\n"
        f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
        "(other processes compete with the benchmark)",
        flush=True,
    )
    sample = sample_payload(environment)
    base_rate, base_cpu = baseline(
        environment, processes, options.deliveries, options.workers, sample
    )
    print(
        f"  baseline  RQ jobs POSTing     {base_rate:8.1f} envelopes/s"
        f"        (worker CPU {base_cpu:.1f} ms/job)",
        flush=True,
    )
    result = loaded(environment, processes, options.deliveries, options.workers)
    report_loaded(result, base_rate)
    idle_latency = idle(environment, options.idle)
    p99 = percentile(idle_latency, 0.99)
    print(
        f"  idle      submit-to-ack       p50 {percentile(idle_latency, 0.5):.3f} s"
        f"   p99 {p99:.3f} s (target < 2 s; {options.idle} submitted one at a time)\n"
        f"  machine: load average {os.getloadavg()[0]:.1f} at the end",
        flush=True,
    )
    return result.rate >= 0.5 * base_rate and p99 < 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--backend", choices=("auto", "postgresql", "sqlite"), default="auto")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="csins-bench-deliver-"))
    processes = Processes(folder)
    redis = Redis.from_url(REDIS_BENCH_URL)
    redis.flushdb()
    try:
        with throwaway_database(options.backend, folder) as database_url:
            environment = start_service(processes, redis, REDIS_BENCH_URL, database_url)
            wait_until(lambda: local_redis.answers(REDIS_BENCH_URL), "redis")
            met = phases(environment, processes, options)
            environment.database.dispose()
            print("  targets met" if met else "  TARGETS MISSED")
            return 0 if met else 1
    except Exception:
        print_log_tails(folder)
        raise
    finally:
        processes.stop()
        redis.flushdb()
        redis.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
