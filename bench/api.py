"""Benchmark of ``POST /api/v1/incidents`` under gunicorn against a JSON-insert baseline (§7).

Run ``.venv/bin/python bench/api.py [--levels 1,5,10,20] [--duration 5]``. It creates a
throwaway PostgreSQL database on the server of ``DATABASE_URL`` (default: the local one),
migrates it, creates a local-authority API key, and starts on free localhost ports

- the service: ``csins-adapter serve`` (gunicorn, its default workers and threads);
- the baseline: ``bench/api_baseline.py``, a Flask endpoint that parses the JSON and inserts one
  row into a table of the same database, served with the same gunicorn settings.

At each concurrency level, that many client threads (httpx, one keep-alive connection each) post
unique valid incident records for ``--duration`` seconds, first to the baseline, then to the
service. It prints throughput and p50/p99 latency per level and the service/baseline throughput
ratio. Targets: p99 under 100 ms at 20 clients, and throughput at least 0.3 of the baseline's.
Everything it starts is stopped, and its database, Redis db and files removed, even on error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from redis import Redis
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from adapter.queue import local_redis  # noqa: E402
from adapter.store import Database, migrate  # noqa: E402
from adapter.store.api_keys import create_key  # noqa: E402
from adapter.store.crypto import format_key, new_key  # noqa: E402
from adapter.store.database import normalise_url  # noqa: E402
from config.settings import Settings  # noqa: E402
from tests.support.throwaway import throwaway_postgresql  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_BENCH_URL = "redis://127.0.0.1:6379/7"
"""The Redis database this benchmark owns (flushed before and after)."""

SAMPLE = REPO / "tests" / "samples" / "incident.json"
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.3
WARMUP_REQUESTS = 40
STARTUP_SECONDS = 30.0


@dataclass
class Level:
    """What one concurrency level measured against one server."""

    clients: int
    done: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.done / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Bodies:
    """Valid incident records, each under a reference never used before (thread-safe)."""

    def __init__(self) -> None:
        template = json.loads(SAMPLE.read_text(encoding="utf-8"))
        template["incident"]["reference"] = "@REFERENCE@"
        self._template = json.dumps(template)
        self._run = uuid.uuid4().hex[:8]
        self._count = 0
        self._lock = threading.Lock()

    def next(self) -> bytes:
        with self._lock:
            self._count += 1
            number = self._count
        return self._template.replace("@REFERENCE@", f"B-{self._run}-{number}").encode()


def drive(
    base_url: str, path: str, key: str, bodies: Bodies, clients: int, seconds: float
) -> Level:
    """``clients`` threads posting bodies for ``seconds``; every answer must be a 201."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            start.wait()
            while time.perf_counter() < deadline[0]:
                body = bodies.next()
                began = time.perf_counter()
                try:
                    status = http.post(path, content=body).status_code
                except httpx.HTTPError:
                    status = 0
                latencies[index].append((time.perf_counter() - began) * 1000)
                if status != 201:
                    errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    flat = [value for values in latencies for value in values]
    return Level(clients, len(flat) - sum(errors), sum(errors), elapsed, flat)


@contextlib.contextmanager
def scratch(prefix: str, redis_url: str) -> Iterator[tuple[Path, Redis]]:
    """A temporary folder named ``prefix``… and the benchmark's own Redis database, both emptied
    afterwards, even after a plain ``kill`` (SIGTERM becomes SystemExit, which unwinds every
    ``with``)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    try:
        yield folder, redis
    finally:
        redis.flushdb()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def throwaway_database(server_url: str) -> Iterator[str]:
    """A new PostgreSQL database on ``server_url``'s server, dropped afterwards."""
    server = make_url(normalise_url(server_url))
    if server.get_backend_name() != "postgresql":
        raise SystemExit(f"DATABASE_URL must name a PostgreSQL server, not {server.drivername}")
    with throwaway_postgresql(server, "csins_bench_api_") as url:
        yield url


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path, url: str) -> Iterator[str]:
    """Start a gunicorn server in its own process group; wait until ``url`` answers; stop it."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            give_up = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{command[2:]} exited: see {log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                if time.monotonic() > give_up:
                    raise SystemExit(f"{command} did not answer within {STARTUP_SECONDS} s")
                time.sleep(0.2)
            yield url.rsplit("/", 1)[0]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def api_key(database_url: str, data_dir: Path) -> str:
    database = Database.from_settings(Settings(data_dir=data_dir), url=database_url)
    try:
        migrate.upgrade(database.engine)
        with database.session_scope() as session:
            return create_key(session, la_code="812", role="local_authority").key
    finally:
        database.dispose()


def report(levels: list[tuple[Level, Level]]) -> bool:
    print(
        f"{'clients':>7} | {'baseline req/s':>14} {'p50 ms':>7} {'p99 ms':>7} | "
        f"{'service req/s':>13} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} | {'ratio':>5}"
    )
    for baseline, service in levels:
        print(
            f"{service.clients:>7} | {baseline.throughput:>14.1f} {baseline.percentile(0.5):>7.1f} "
            f"{baseline.percentile(0.99):>7.1f} | {service.throughput:>13.1f} "
            f"{service.percentile(0.5):>7.1f} {service.percentile(0.99):>7.1f} "
            f"{service.errors + baseline.errors:>6} | "
            f"{service.throughput / baseline.throughput:>5.2f}"
        )
    baseline, service = levels[-1]
    p99 = service.percentile(0.99)
    ratio = service.throughput / baseline.throughput
    met = p99 < TARGET_P99_MS and ratio >= TARGET_RATIO and not service.errors
    print(
        f"\nat {service.clients} clients: p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f}), "
        f"throughput {ratio:.2f} of the baseline's (target >= {TARGET_RATIO}): "
        + ("MET" if met else "MISSED")
    )
    return met


def service_env(database_url: str, folder: Path) -> dict[str, str]:
    """What both servers run with: the throwaway database, the benchmark's Redis database, the
    scratch folder as data dir and a new encryption key."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_BENCH_URL,
        "CSINS_DATA_DIR": str(folder),
        "CSINS_ENCRYPTION_KEYS": format_key("bench", new_key()),
    }


@contextlib.contextmanager
def servers(env: dict[str, str], folder: Path) -> Iterator[tuple[str, str]]:
    """The service (``csins-adapter serve``) and the baseline, each on a free port and answering:
    their base URLs. Both are stopped afterwards."""
    service_port, baseline_port = local_redis.free_port(), local_redis.free_port()
    service_command = [
        sys.executable,
        "-m",
        "adapter.cli",
        "serve",
        "--port",
        str(service_port),
    ]
    baseline_command = [
        sys.executable,
        str(REPO / "bench" / "api_baseline.py"),
        "--port",
        str(baseline_port),
    ]
    with (
        server(
            service_command,
            env,
            folder / "service.log",
            f"http://127.0.0.1:{service_port}/healthz",
        ) as service_url,
        server(
            baseline_command,
            env,
            folder / "baseline.log",
            f"http://127.0.0.1:{baseline_port}/healthz",
        ) as baseline_url,
    ):
        yield service_url, baseline_url


def warm_up(service_url: str, baseline_url: str, key: str, bodies: Bodies) -> None:
    """A few requests to each server first, so that no level pays for start-up."""
    print(f"warming up ({WARMUP_REQUESTS} requests each)...", flush=True)
    for url, path in ((baseline_url, "/ingest"), (service_url, "/api/v1/incidents")):
        with httpx.Client(
            base_url=url,
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/json",
            },
        ) as http:
            for _ in range(WARMUP_REQUESTS):
                http.post(path, content=bodies.next()).raise_for_status()


def measure(
    service_url: str, baseline_url: str, key: str, levels: list[int], duration: float
) -> list[tuple[Level, Level]]:
    """Each concurrency level against the baseline, then the service, after a warm-up."""
    bodies = Bodies()
    warm_up(service_url, baseline_url, key, bodies)
    results: list[tuple[Level, Level]] = []
    for clients in levels:
        print(f"{clients} clients, {duration:g} s each...", flush=True)
        baseline = drive(baseline_url, "/ingest", key, bodies, clients, duration)
        service = drive(service_url, "/api/v1/incidents", key, bodies, clients, duration)
        results.append((baseline, service))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,5,10,20", help="Client counts, comma-separated")
    parser.add_argument("--duration", type=float, default=5.0, help="Seconds per level and server")
    args = parser.parse_args()
    levels = [int(part) for part in args.levels.split(",")]
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    with (
        scratch("csins-bench-api-", REDIS_BENCH_URL) as (folder, _),
        throwaway_database(server_url) as database_url,
    ):
        key = api_key(database_url, folder)
        env = service_env(database_url, folder)
        with servers(env, folder) as (service_url, baseline_url):
            results = measure(service_url, baseline_url, key, levels, args.duration)
        print()
        met = report(results)
        print(
            f"(median service latency over all levels: "
            f"{statistics.median(v for _, s in results for v in s.latencies_ms):.1f} ms)"
        )
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
