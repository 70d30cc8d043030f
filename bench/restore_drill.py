"""Backup and restore drill (issue 19): how long each step of docs/deploy.md's drill takes.

Run ``.venv/bin/python bench/restore_drill.py [--incidents 1000] [--backend both]``. For each
backend (SQLite, and PostgreSQL at ``DATABASE_URL`` or the local server when it answers), in a
throwaway database: ``--incidents`` incidents are submitted and delivered by two real workers to
a sandbox receiver (one receipt each), and a checkpoint is signed into a witness file. Then each
step is timed exactly as docs/deploy.md gives it (``tests/support/backups.py`` runs the same
commands in the restore drill test, ``tests/e2e/test_backup_restore.py``):

- backup: SQLite's online backup (Python's ``sqlite3``) or ``pg_dump --format=custom``, beside a
  plain ``cp`` of the SQLite file (the floor: what copying the bytes costs, not a consistent copy);
- restore: ``install -m 600`` into a new data dir, or ``pg_restore`` into a new database, then
  ``csins-adapter db upgrade``;
- checks: ``receipts audit``, ``receipts audit --checkpoint WITNESS``, and ``db reencrypt`` under
  a throwaway first key (every sealed value decrypted), beside ``csins-adapter db current`` (a
  command's start-up and first connection, which every check pays).

Reuses bench/deliver.py's set-up (databases, receiver, workers, incidents). Everything it starts
is stopped and its databases, Redis db and files removed, even on error.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from deliver import acknowledged_count, seed_incidents  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import text  # noqa: E402
from stack import (  # noqa: E402
    Environment,
    Processes,
    postgresql_server,
    print_log_tails,
    random_key,
    start_service,
    start_workers,
    throwaway_database,
    wait_until,
)

from adapter.queue import enqueue_deliveries  # noqa: E402
from tests.support import backups  # noqa: E402

REDIS_DRILL_URL = "redis://127.0.0.1:6379/12"
"""The Redis database the drill owns (flushed before and after)."""

WORKERS = 2
"""Real ``csins-adapter worker`` processes delivering the incidents (the machine has 2 cores)."""

CLI = [sys.executable, "-m", "adapter.cli"]


def cli(env: dict[str, str], *args: str | Path) -> str:
    """``csins-adapter ARGS``: its output; stop the drill with its errors if it fails."""
    done = subprocess.run(
        [*CLI, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} exited {done.returncode}: {done.stderr}")
    return done.stdout


def seconds(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def reencrypted(output: str) -> int:
    """How many values ``db reencrypt`` says it re-encrypted (``table.column: N re-encrypted``)."""
    return sum(int(line.split()[1]) for line in output.splitlines() if "re-encrypted" in line)


def size_mib(path: Path) -> float:
    return path.stat().st_size / 2**20


@contextlib.contextmanager
def service(backend: str, folder: Path) -> Iterator[Environment]:
    """The service's database, env and sandbox receiver on ``backend``, torn down afterwards."""
    processes = Processes(folder)
    redis = Redis.from_url(REDIS_DRILL_URL)
    redis.flushdb()
    try:
        with throwaway_database(backend, folder) as database_url:
            witness = folder / "witness" / "receipt-checkpoints.jsonl"
            environment = start_service(
                processes,
                redis,
                REDIS_DRILL_URL,
                database_url,
                {"CSINS_CHECKPOINT_FILE": str(witness)},
            )
            try:
                yield environment
            finally:
                processes.stop()
                environment.database.dispose()
    finally:
        redis.flushdb()
        redis.close()


def deliver_incidents(environment: Environment, count: int) -> None:
    """``count`` incidents submitted, each one's notification delivered and receipted."""
    ids = seed_incidents(environment, count, "DRILL")
    processes = Processes(environment.folder)
    start_workers(
        processes,
        environment.redis,
        WORKERS,
        lambda name: [*CLI, "worker", "--name", name],
        environment.env,
    )
    try:
        enqueue_deliveries(environment.settings, [(i, "panel") for i in ids])
        database = environment.database
        wait_until(lambda: acknowledged_count(database) >= len(ids), "the deliveries", 0.25)
    finally:
        processes.stop()
    cli(environment.env, "receipts", "checkpoint")


def database_mib(environment: Environment) -> float:
    database = environment.database
    if database.dialect != "postgresql":
        return size_mib(Path(database.engine.url.database or ""))
    with database.engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_database_size(current_database())"))) / 2**20


def backup(environment: Environment, copy: Path) -> list[tuple[str, float, str]]:
    """Time the documented backup (and, on SQLite, a plain copy of the file beside it)."""
    url = environment.env["DATABASE_URL"]
    if environment.database.dialect == "postgresql":
        took = seconds(lambda: backups.backup_postgresql(url, copy))
        return [("backup    pg_dump --format=custom", took, f"{size_mib(copy):.1f} MiB dump")]
    source = Path(environment.database.engine.url.database or "")
    floor = environment.folder / "plain-copy.db"
    copied = seconds(lambda: shutil.copyfile(source, floor))
    took = seconds(lambda: backups.backup_sqlite(source, copy))
    return [
        ("baseline  cp of the database file", copied, "not a consistent copy"),
        ("backup    online backup (python3 sqlite3)", took, f"{size_mib(copy):.1f} MiB copy"),
    ]


def restore_and_check(
    environment: Environment, copy: Path, stack: contextlib.ExitStack
) -> list[tuple[str, float, str]]:
    """Time the documented restore into a new database and data dir, then each check."""
    folder = environment.folder
    data_dir = folder / "restored"
    keys = Path(environment.env["CSINS_DATA_DIR"]) / "receipt-keys"
    shutil.copytree(keys, data_dir / "receipt-keys")  # the signing keys, kept on their own
    env = {**environment.env, "CSINS_DATA_DIR": str(data_dir)}
    if environment.database.dialect == "postgresql":
        env["DATABASE_URL"] = stack.enter_context(throwaway_database("postgresql", folder))
        label = "restore   pg_restore into a new database"
        took = seconds(lambda: backups.restore_postgresql(copy, env["DATABASE_URL"]))
    else:
        del env["DATABASE_URL"]
        label = "restore   install -m 600 into the data dir"
        took = seconds(lambda: backups.restore_sqlite(copy, data_dir))
    rows = [
        (label, took, ""),
        ("restore   csins-adapter db upgrade", seconds(lambda: cli(env, "db", "upgrade")), ""),
        ("baseline  csins-adapter db current", seconds(lambda: cli(env, "db", "current")), ""),
        ("check     receipts audit", seconds(lambda: cli(env, "receipts", "audit")), ""),
    ]
    witness = env["CSINS_CHECKPOINT_FILE"]
    took = seconds(lambda: cli(env, "receipts", "audit", "--checkpoint", witness))
    rows.append(("check     receipts audit --checkpoint WITNESS", took, ""))
    # A throwaway first key: every stored value is decrypted to be re-encrypted under it.
    scratch = {
        **env,
        "CSINS_ENCRYPTION_KEYS": f"{random_key('drill')},{env['CSINS_ENCRYPTION_KEYS']}",
    }
    began = time.perf_counter()
    count = reencrypted(cli(scratch, "db", "reencrypt"))
    took = time.perf_counter() - began
    rows.append(("check     db reencrypt under a drill key", took, f"{count} values decrypted"))
    return rows


def run_drill(backend: str, incidents: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix=f"csins-restore-drill-{backend}-"))
    try:
        with service(backend, folder) as environment, contextlib.ExitStack() as stack:
            began = time.perf_counter()
            deliver_incidents(environment, incidents)
            built = time.perf_counter() - began
            print(
                f"\n{environment.database.dialect}: {incidents} incidents delivered and receipted "
                f"in {built:.0f} s; database {database_mib(environment):.1f} MiB",
                flush=True,
            )
            rows = backup(environment, folder / "backup")
            rows += restore_and_check(environment, folder / "backup", stack)
            for label, took, note in rows:
                print(f"  {label:<48} {took:7.2f} s  {note}", flush=True)
            drill = sum(took for label, took, _ in rows if not label.startswith("baseline"))
            print(f"  {'the whole drill (every step but the baselines)':<48} {drill:7.2f} s")
    except Exception:
        print_log_tails(folder)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--backend", choices=("both", "sqlite", "postgresql"), default="both")
    options = parser.parse_args()
    print(
        f"restore drill: {options.incidents} incidents, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} (other processes compete with the drill)"
    )
    if options.backend in ("both", "sqlite"):
        run_drill("sqlite", options.incidents)
    if options.backend in ("both", "postgresql"):
        server = postgresql_server("auto" if options.backend == "both" else "postgresql")
        problem = (
            "no server answers" if server is None else backups.postgresql_tools_problem(server)
        )
        if problem is None:
            run_drill("postgresql", options.incidents)
        else:
            print(f"\npostgresql: skipped ({problem})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
