"""The backup and restore commands of docs/deploy.md ("Backup and restore"), run as the operator
runs them: ``pg_dump``/``pg_restore`` for PostgreSQL, SQLite's online backup through Python's
``sqlite3`` module, ``install`` to put a copy in place. The restore drill test
(``tests/e2e/test_backup_restore.py``) and ``bench/restore_drill.py`` both run these, so what is
tested and measured is what the documentation tells an operator to type.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SQLITE_BACKUP = (
    'import sqlite3, sys; source = sqlite3.connect(f"file:{sys.argv[1]}?mode=rw", uri=True); '
    "copy = sqlite3.connect(sys.argv[2]); source.backup(copy); copy.close(); source.close()"
)
"""The program of docs/deploy.md's SQLite backup line (``python3 -c '...' DATABASE COPY``): one
backup step copies every page under one read transaction, a consistent copy while the service
writes; ``mode=rw`` refuses a mistyped path instead of backing up a new empty file."""


PG_DUMP = ("pg_dump", "--format=custom")
"""docs/deploy.md's ``pg_dump`` (then ``--file=DUMP URL``): a consistent snapshot of a live
database, in the archive format ``pg_restore`` reads."""

PG_RESTORE = ("pg_restore", "--no-owner", "--no-privileges", "--single-transaction")
"""docs/deploy.md's ``pg_restore`` (then ``--dbname=URL DUMP``) into an empty database: all or
nothing, its objects owned by whoever restores it."""

WITNESS_SPLIT = (
    "import json, sys\n"
    "for line in sys.stdin:\n"
    '    if json.loads(line)["checkpoint"]["size"] <= int(sys.argv[1]): sys.stdout.write(line)'
)
"""The program of docs/deploy.md's split of the witness file after a restore (``python3 -c
'...' N < OLD > NEW``): the checkpoints of at most N receipts, which the restored log of N
receipts still matches."""


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL (``postgresql+psycopg://``) as pg_dump and psql take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    """Run one documented command; fail with its output when it fails."""
    done = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, command[:2]))} exited {done.returncode}:\n{done.stderr}"
        )
    return done


def postgresql_tools_problem(server_url: str) -> str | None:
    """Why ``pg_dump``/``pg_restore`` cannot back up this server (missing, or older than the
    server: pg_dump refuses a newer server), or None when they can."""
    missing = [tool for tool in ("pg_dump", "pg_restore") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not installed"
    engine = create_engine(server_url)
    try:
        with engine.connect() as connection:
            server = int(connection.scalar(text("SHOW server_version_num")) or 0) // 10000
    finally:
        engine.dispose()
    for tool in ("pg_dump", "pg_restore"):
        version = run(tool, "--version").stdout
        found = re.search(r"(\d+)(?:\.\d+)?", version)
        major = int(found.group(1)) if found else 0
        if major < server:
            return f"{tool} {major} cannot dump or restore for a PostgreSQL {server} server"
    return None


def backup_postgresql(database_url: str, dump: Path) -> None:
    """:data:`PG_DUMP` ``--file=DUMP URL``."""
    run(*PG_DUMP, f"--file={dump}", libpq_url(database_url))


def restore_postgresql(dump: Path, empty_database_url: str) -> None:
    """:data:`PG_RESTORE` ``--dbname=URL DUMP``, into an empty database."""
    run(*PG_RESTORE, f"--dbname={libpq_url(empty_database_url)}", dump)


def backup_sqlite(database: Path, copy: Path) -> None:
    """``python3 -c '<SQLITE_BACKUP>' DATABASE COPY``: an online, consistent copy."""
    run(sys.executable, "-c", SQLITE_BACKUP, database, copy)


def restore_sqlite(copy: Path, data_dir: Path) -> Path:
    """``install -m 600 COPY $CSINS_DATA_DIR/csins.db`` (the data dir holds no csins.db*)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    leftovers = sorted(path.name for path in data_dir.glob("csins.db*"))
    if leftovers:  # an old -wal beside a restored file would be replayed into it
        raise RuntimeError(f"move {', '.join(leftovers)} aside before restoring")
    target = data_dir / "csins.db"
    run("install", "-m", "600", copy, target)
    return target


def keep_checkpoints_up_to(witness: Path, size: int, kept: Path) -> None:
    """docs/deploy.md's split of the witness file after a restore (:data:`WITNESS_SPLIT`): the
    checkpoints of at most ``size`` receipts go into a new file ``kept``."""
    with witness.open("rb") as source, kept.open("xb") as target:
        command = [sys.executable, "-c", WITNESS_SPLIT, str(size)]
        subprocess.run(command, stdin=source, stdout=target, check=True)
