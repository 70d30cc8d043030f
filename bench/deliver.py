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
import base64
import contextlib
import copy
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from redis import Redis  # noqa: E402
from rq import Queue, Worker  # noqa: E402
from rq.registry import FinishedJobRegistry  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from adapter import localredis  # noqa: E402
from adapter.apikeys import Principal, create_key  # noqa: E402
from adapter.service import casework  # noqa: E402
from adapter.service.clock import utcnow  # noqa: E402
from adapter.store import outbox  # noqa: E402
from adapter.store.database import Database, normalise_url  # noqa: E402
from adapter.store.migrate import upgrade  # noqa: E402
from adapter.store.models import Delivery, Incident  # noqa: E402
from config.settings import Settings, load_settings  # noqa: E402
from jobs.queues import enqueue_deliveries  # noqa: E402

REDIS_BENCH_URL = "redis://127.0.0.1:6379/11"
"""The Redis database the benchmark owns (flushed before and after)."""

LOCAL_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
"""Tried when ``DATABASE_URL`` names no PostgreSQL server."""

ADDRESSEES = ("panel", "secretary_of_state", "ofsted", "dfe")
BASELINE_QUEUE = "bench-noop"
WAIT_SECONDS = 600.0
"""Longest any phase may take before the benchmark gives up."""

BASELINE_WORKER = f"""
import sys
sys.path.insert(0, {str(REPO / "bench")!r})
from redis import Redis
from rq import SimpleWorker
SimpleWorker([sys.argv[2]], connection=Redis.from_url(sys.argv[1]), name=sys.argv[3]).work(
    with_scheduler=True, logging_level="WARNING"
)
"""


@dataclass
class Environment:
    settings: Settings
    database: Database
    redis: Redis
    env: dict[str, str]
    folder: Path
    receiver_pid: int = 0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes ``pids`` have used (gone ones count 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_backends(database: Database) -> list[int]:
    """PostgreSQL server processes serving the benchmark's database (none on SQLite)."""
    if database.dialect != "postgresql":
        return []
    with database.engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        )


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def wait_until(condition: Callable[[], bool], what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(interval)


# --- set-up and clean-up -------------------------------------------------------------------


def postgresql_server(backend: str) -> str | None:
    if backend == "sqlite":
        return None
    url = os.environ.get("DATABASE_URL") or LOCAL_POSTGRESQL
    url = normalise_url(url) if url.startswith("postgres") else LOCAL_POSTGRESQL
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return url
    except Exception:  # no server answering: SQLite instead
        if backend == "postgresql":
            raise
        return None


@contextlib.contextmanager
def throwaway_database(backend: str, folder: Path) -> Iterator[str]:
    server = postgresql_server(backend)
    if server is None:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"csins_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Processes:
    """Subprocesses in their own sessions, all killed (with what they forked) on exit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running.append(process)
        return process

    def stop(self, processes: list[subprocess.Popen[bytes]] | None = None) -> None:
        for process in processes if processes is not None else list(self.running):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            self.running.remove(process)


def print_log_tails(folder: Path, lines: int = 15) -> None:
    """The last lines of each process's log in ``folder``, on standard error (after a failure)."""
    for log in sorted(folder.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- {log.name}", *tail, sep="\n", file=sys.stderr)


def start_workers(
    processes: Processes,
    redis: Redis,
    count: int,
    args: Callable[[str], list[str]],
    env: dict[str, str],
) -> list[subprocess.Popen[bytes]]:
    names = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    started = [processes.start(name, args(name), env) for name in names]
    wait_until(
        lambda: set(names) <= {w.name for w in Worker.all(connection=redis)}, "workers to start"
    )
    return started


# --- the measurements ----------------------------------------------------------------------


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
        seed = session.get_one(Delivery, first)
        incident = session.get_one(Incident, seed.incident_id)
        return outbox.delivery_payload(database.keyring, seed), incident.reference


def bulk_deliveries(environment: Environment, count: int) -> list[tuple[str, str]]:
    """``count`` outbox rows on a few incidents, spread over the four addressees."""
    database = environment.database
    first = seed_incidents(environment, len(ADDRESSEES), "BENCH-LOAD")
    rows: list[tuple[str, str]] = []
    with database.session_scope() as session:
        seeds = list(session.scalars(select(Delivery).where(Delivery.id.in_(first))))
        payload = outbox.delivery_payload(database.keyring, seeds[0])
        rows += [(seed.id, seed.addressee) for seed in seeds]
        incidents = [seed.incident_id for seed in seeds]
        loaded = {
            row.id: row
            for row in session.scalars(select(Incident).where(Incident.id.in_(incidents)))
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
            select(func.count()).select_from(Delivery).where(Delivery.status == "acknowledged")
        )
        if ids is not None:
            statement = statement.where(Delivery.id.in_(ids))
        return int(session.scalar(statement) or 0)


def latencies(database: Database, ids: list[str]) -> list[float]:
    with database.session_scope() as session:
        rows = session.execute(
            select(Delivery.created_at, Delivery.acknowledged_at).where(Delivery.id.in_(ids))
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
            sandbox_port = localredis.free_port()
            encryption_key = base64.b64encode(secrets.token_bytes(32)).decode()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
                "CSINS_DATA_DIR": str(folder / "data"),
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_BENCH_URL,
                "CSINS_SANDBOX_URL": f"http://127.0.0.1:{sandbox_port}",
                "CSINS_ENCRYPTION_KEYS": f"bench:{encryption_key}",
            }
            settings = load_settings(env=env)
            database = Database.from_settings(settings)
            upgrade(database.engine)
            receiver = processes.start(
                "sandbox",
                [sys.executable, "-m", "adapter.cli", "sandbox", "--port", str(sandbox_port)],
                env,
            )
            environment = Environment(settings, database, redis, env, folder, receiver.pid)
            wait_until(lambda: localredis.answers(REDIS_BENCH_URL), "redis")
            backend = database.dialect
            print(
                f"deliver benchmark: {options.deliveries} deliveries, {options.workers} "
                f"workers (SimpleWorker), {backend}, Redis {REDIS_BENCH_URL}\n"
                f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
                "(other processes compete with the benchmark)",
                flush=True,
            )
            base_rate, base_cpu = baseline(
                environment,
                processes,
                options.deliveries,
                options.workers,
                sample_payload(environment),
            )
            print(
                f"  baseline  RQ jobs POSTing     {base_rate:8.1f} envelopes/s"
                f"        (worker CPU {base_cpu:.1f} ms/job)",
                flush=True,
            )
            result = loaded(environment, processes, options.deliveries, options.workers)
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
            idle_latency = idle(environment, options.idle)
            p99 = percentile(idle_latency, 0.99)
            print(
                f"  idle      submit-to-ack       p50 {percentile(idle_latency, 0.5):.3f} s"
                f"   p99 {p99:.3f} s (target < 2 s; {options.idle} submitted one at a time)\n"
                f"  machine: load average {os.getloadavg()[0]:.1f} at the end",
                flush=True,
            )
            database.dispose()
            met = result.rate >= 0.5 * base_rate and p99 < 2.0
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
