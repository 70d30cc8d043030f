"""The service's processes for a benchmark: a throwaway database, the sandbox receiver, workers.

Shared by ``bench/deliver.py``, ``bench/restore_drill.py`` and ``bench/soak.py``: everything
started here runs in its own process group (:class:`Processes`), so a benchmark stops it all,
even on error, and prints the logs' tails when a step fails.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from redis import Redis  # noqa: E402
from rq import Worker  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from adapter.queue import local_redis  # noqa: E402
from adapter.store.database import Database, normalise_url  # noqa: E402
from adapter.store.migrate import upgrade  # noqa: E402
from config.settings import Settings, load_settings  # noqa: E402
from tests.support.throwaway import throwaway_postgresql  # noqa: E402

LOCAL_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
"""Tried when ``DATABASE_URL`` names no PostgreSQL server."""

WAIT_SECONDS = 600.0
"""Longest any phase may take before the benchmark gives up."""


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
    with throwaway_postgresql(server, "csins_bench_") as url:
        yield url


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


def random_key(kid: str) -> str:
    """A new encryption key as ``CSINS_ENCRYPTION_KEYS`` takes it."""
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def start_service(
    processes: Processes,
    redis: Redis,
    redis_url: str,
    database_url: str,
    extra_env: dict[str, str] | None = None,
) -> Environment:
    """The service's env (data dir in the processes' folder, the Redis database ``redis_url``
    that ``redis`` is the client of, a new encryption key, and ``extra_env``), its migrated
    database and a sandbox receiver started in ``processes`` on a free port: what the benchmark
    and the restore drill deliver through."""
    port = local_redis.free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
        "CSINS_DATA_DIR": str(processes.folder / "data"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CSINS_SANDBOX_URL": f"http://127.0.0.1:{port}",
        "CSINS_ENCRYPTION_KEYS": random_key("bench"),
        **(extra_env or {}),
    }
    settings = load_settings(env=env)
    database = Database.from_settings(settings)
    upgrade(database.engine)
    receiver = processes.start(
        "sandbox",
        [sys.executable, "-m", "adapter.cli", "sandbox", "--port", str(port)],
        env,
    )
    return Environment(settings, database, redis, env, processes.folder, receiver.pid)


# --- the measurements ----------------------------------------------------------------------
