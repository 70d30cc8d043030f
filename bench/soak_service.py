"""The service the soak runs (``bench/soak.py``), the faults it plays on it, and what it reads
of its processes (memory, logs).

Start-up reuses the other benchmarks' helpers: ``bench/api.py`` for the throwaway database's
migration and API key and for gunicorn (``server``), ``bench/deliver.py`` for process groups
(``Processes``) and workers that have registered with Redis (``start_workers``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import api as api_bench
import httpx
import stack as bench_stack
from redis import Redis
from rq import Worker
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from adapter.queue import local_redis

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "adapter.cli"]

BUSY_WAIT_SECONDS = 15.0
"""How long the worker fault waits for a worker to be running a delivery before it kills one
anyway."""

_SWEPT = re.compile(r"sweep re-enqueued (\d+) deliveries")


class OwnRedis:
    """A Redis of the soak's own on a fixed port, configured as the service's own (append-only
    file, fsync every second, no snapshots: ``localredis.start``), that can be killed and
    started again."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, local_redis.free_port()
        self.process, self.url = local_redis.start(folder, self.port)

    def kill(self) -> None:
        """SIGKILL: the server writes nothing more (what the last second's fsync missed is lost)."""
        self.process.kill()
        self.process.wait()

    def start(self, *, empty: bool) -> None:
        if empty:  # as after losing the machine: its append-only file is gone too
            shutil.rmtree(self.folder / "redis", ignore_errors=True)
        self.process, _ = local_redis.start(self.folder, self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill()


@dataclass
class Service:
    """The running service and what the soak needs to drive, hurt and check it."""

    env: dict[str, str]
    folder: Path
    processes: bench_stack.Processes
    redis: OwnRedis
    engine: Engine
    sandbox_url: str
    key: str = ""
    base_url: str = ""
    web_group: int = 0
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    watched: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_workers(self, count: int) -> None:
        self.workers += bench_stack.start_workers(
            self.processes,
            Redis.from_url(self.redis.url),
            count,
            lambda name: [*CLI, "worker", "--name", name],
            self.env,
        )

    def dead(self) -> list[str]:
        """The service's processes that have exited (a killed worker is no longer watched)."""
        return [
            f"{_argument(process, 3)} pid {process.pid} (exit {process.returncode})"
            for process in [*self.watched, *self.workers]
            if process.poll() is not None
        ]

    def backlog(self) -> Counter[str]:
        """Deliveries by status."""
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT status, count(*) FROM deliveries GROUP BY 1")
            return Counter({status: int(count) for status, count in rows})

    def memory(self) -> dict[str, list[float]]:
        """Resident MiB of the processes of each part of the service (their process groups)."""
        groups = {self.web_group: "web", self.redis.process.pid: "redis"}
        groups |= {process.pid: _argument(process, 3) for process in self.watched}
        groups |= {process.pid: "workers" for process in self.workers}
        return group_rss(groups)


def _argument(process: subprocess.Popen[bytes], index: int) -> str:
    """One word of ``process``'s command line: ``csins-adapter``'s command (3), a worker's
    name (-1)."""
    arguments = process.args
    return str(arguments[index]) if isinstance(arguments, list) else "?"


def environment(
    database_url: str, folder: Path, redis_url: str, sandbox_url: str
) -> dict[str, str]:
    """The environment of every process of the service (and of the CLI the checks run)."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CSINS_DATA_DIR": str(folder / "data"),
        "CSINS_SANDBOX_URL": sandbox_url,
        "CSINS_ENCRYPTION_KEYS": f"soak:{base64.b64encode(secrets.token_bytes(32)).decode()}",
    }


def start_service(
    stack: contextlib.ExitStack, folder: Path, database_url: str, workers: int, stuck_after: int
) -> Service:
    """Redis, receiver, scheduler, ``workers`` workers and gunicorn, each stopped when ``stack``
    ends (gunicorn first, Redis last). ``stuck_after``: a policy's ``stuck_delivery_seconds``
    (0: the shipped policy's)."""
    redis = OwnRedis(folder / "redis-server")
    stack.callback(redis.stop)
    sandbox_port = local_redis.free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = environment(database_url, folder, redis.url, sandbox_url)
    if stuck_after:
        (folder / "config").mkdir()
        (folder / "config" / "policy.yaml").write_text(f"stuck_delivery_seconds: {stuck_after}\n")
        env["CSINS_CONFIG_DIR"] = str(folder / "config")
    processes = bench_stack.Processes(folder)
    stack.callback(processes.stop)
    engine = create_engine(database_url, pool_pre_ping=True)
    stack.callback(engine.dispose)
    service = Service(env, folder, processes, redis, engine, sandbox_url)
    (folder / "data").mkdir()
    service.key = api_bench.api_key(database_url, folder / "data")  # migrates the database
    service.watched += [
        processes.start("sandbox", [*CLI, "sandbox", "--port", str(sandbox_port)], env),
        processes.start("scheduler", [*CLI, "scheduler"], env),
    ]
    bench_stack.wait_until(lambda: _answers(f"{sandbox_url}/healthz"), "the receiver")
    service.start_workers(workers)
    port = local_redis.free_port()
    service.base_url = stack.enter_context(
        api_bench.server(
            [*CLI, "serve", "--port", str(port)],
            env,
            folder / "serve.log",
            f"http://127.0.0.1:{port}/healthz",
        )
    )
    service.web_group = _group_of(["serve", "--port", str(port)])
    return service


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url, timeout=1).status_code == 200
    return False


# --- the faults ----------------------------------------------------------------------------


def kill_worker(service: Service) -> tuple[str, str | None]:
    """SIGKILL a worker (with what it forked) while it runs a delivery, if one does within
    :data:`BUSY_WAIT_SECONDS`; start a replacement, as a supervisor would. Says what it did,
    and which delivery the worker was running (None: none)."""
    victim, job = _busy_worker(service)
    service.workers.remove(victim)
    service.processes.stop([victim])
    service.start_workers(1)
    running = f"while running job {job}" if job else "while idle"
    said = f"worker pid {victim.pid} killed (SIGKILL) {running}; a replacement started"
    return said, job.removeprefix("deliver-").rsplit("-", 1)[0] if job else None


def _busy_worker(service: Service) -> tuple[subprocess.Popen[bytes], str | None]:
    by_name = {_argument(process, -1): process for process in service.workers}
    redis = Redis.from_url(service.redis.url)
    give_up = time.monotonic() + BUSY_WAIT_SECONDS
    while time.monotonic() < give_up:
        for worker in Worker.all(connection=redis):
            job = worker.get_current_job_id()
            if worker.name in by_name and job and job.startswith("deliver-"):
                return by_name[worker.name], job
        time.sleep(0.01)
    return service.workers[0], None


def restart_redis(service: Service, down: float, empty: bool) -> str:
    """SIGKILL Redis; start it again on the same port ``down`` seconds later."""
    service.redis.kill()
    time.sleep(down)
    service.redis.start(empty=empty)
    kept = "empty (its file deleted)" if empty else "from its append-only file"
    return f"Redis killed (SIGKILL), down {down:g} s, started again {kept}"


# --- what the processes show ---------------------------------------------------------------


def group_rss(groups: dict[int, str]) -> dict[str, list[float]]:
    """Resident MiB of each process whose process group is a key of ``groups``, listed under
    the group's name."""
    page = os.sysconf("SC_PAGE_SIZE")
    found: dict[str, list[float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        name = groups.get(int(fields[2]))
        if name is not None:
            found.setdefault(name, []).append(int(fields[21]) * page / 2**20)
    return found


def _group_of(arguments: list[str]) -> int:
    """The process group of the process whose command line holds ``arguments`` in order."""
    wanted = "\0".join(arguments).encode()
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and wanted in (entry / "cmdline").read_bytes():
                return os.getpgid(int(entry.name))
    return 0


def logs_summary(folder: Path) -> tuple[dict[str, int], int]:
    """Per log file of the service, the tracebacks in it; and the deliveries the sweeps
    re-enqueued (what a lost job or a killed worker left to them)."""
    tracebacks: dict[str, int] = {}
    swept = 0
    for log in sorted(folder.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        tracebacks[log.stem] = text.count("Traceback (most recent call last)")
        swept += sum(int(found) for found in _SWEPT.findall(text))
    return tracebacks, swept


def stuck_report(service: Service, limit: int = 5) -> list[str]:
    """For up to ``limit`` deliveries left undelivered: the row, and what Redis holds of the
    job of its current try (the job's fields, every registry or queue that names it)."""
    with service.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT id, addressee, status, attempts, next_attempt_at, last_error FROM deliveries"
            " WHERE status NOT IN ('acknowledged', 'failed') ORDER BY created_at LIMIT %s",
            (limit,),
        ).all()
    redis = Redis.from_url(service.redis.url, decode_responses=True)
    lines = []
    for delivery_id, addressee, status, attempts, next_at, error in rows:
        job_id = f"deliver-{delivery_id}-{attempts}"
        fields = ("status", "origin", "worker_name", "started_at")
        job = dict(zip(fields, redis.hmget(f"rq:job:{job_id}", fields), strict=True))
        shown = {key: value for key, value in job.items() if value is not None}
        holders = [key for key in redis.scan_iter("rq:*") if _names(redis, key, job_id)]
        lines.append(
            f"{delivery_id} {addressee} {status} try {attempts} next {next_at} error {error!r}; "
            f"job {job_id}: {shown or 'not in Redis'}; named by {holders}"
        )
    return lines


def _names(redis: Redis, key: str, job_id: str) -> bool:
    kind = redis.type(key)
    if kind == "zset":
        return redis.zscore(key, job_id) is not None
    if kind == "list":
        return redis.lpos(key, job_id) is not None
    if kind == "set":
        return bool(redis.sismember(key, job_id))
    return False
