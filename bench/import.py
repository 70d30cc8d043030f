"""Benchmark of an export imported end to end against ``csins-adapter convert`` of it (§7).

Run ``.venv/bin/python bench/import.py [--rows 10000] [--profile]``. It writes a Liquidlogic
export with ``bench/convert.py``'s generator, creates a throwaway PostgreSQL database on the
server of ``DATABASE_URL`` (default: the local one) and migrates it, then times, each as a
fresh process:

- the baseline: ``csins-adapter convert FILE --out OUT.ndjson`` (read, convert, validate);
- the import: ``csins-adapter import FILE --la 812``: the same conversion, then every incident
  planned, encrypted and stored with its obligations and deliveries, a batch per transaction,
  and the deliveries queued on Redis (a database of its own there, flushed before and after).

It prints rows/s of both and their ratio (target: the import at least 1/30 of convert's
rows/s). ``--profile`` then imports the file again into an empty database in this process under
cProfile and prints the top functions by own time and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from api import DEFAULT_SERVER, scratch, throwaway_database  # noqa: E402
from convert import generate  # noqa: E402

from adapter.store import Database, migrate  # noqa: E402
from adapter.store.crypto import format_key, new_key  # noqa: E402
from config.settings import load_settings  # noqa: E402

REDIS_BENCH_URL = "redis://127.0.0.1:6379/8"
"""The Redis database this benchmark owns (flushed before and after)."""

TARGET_RATIO = 1 / 30
LA_CODE = "812"
"""The generator's LA code."""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run ``csins-adapter COMMAND``; wall seconds and its stderr's last lines."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "adapter.cli", *command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, "\n".join(done.stderr.strip().splitlines()[-2:])


def migrated(database_url: str, env: dict[str, str]) -> None:
    database = Database.from_settings(load_settings(env=env), url=database_url)
    try:
        migrate.upgrade(database.engine)
    finally:
        database.dispose()


def profile(path: Path, env: dict[str, str], top: int) -> None:
    """Import ``path`` in this process under cProfile; print the top functions."""
    from adapter.clock import utcnow
    from adapter.queue import RqPublisher
    from adapter.service.import_runs import accept_import, run_import
    from adapter.store.api_keys import Principal

    settings = load_settings(env=env)
    database = Database.from_settings(settings)
    database.publisher = RqPublisher(settings)
    operator = Principal(None, LA_CODE, "local_authority")
    profiler = cProfile.Profile()
    try:
        with path.open("rb") as stream:
            profiler.enable()
            record = accept_import(
                database, settings, operator, stream, path.name, system="auto", now=utcnow()
            )
            run_import(database, settings, record.id)
            profiler.disable()
    finally:
        database.dispose()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        body = out.getvalue()
        print(f"--- profile, top {top} by {order} ---")
        print(body[body.find("   ncalls") :].rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="Profile an import afterwards")
    parser.add_argument("--top", type=int, default=25, help="Functions the profile shows")
    args = parser.parse_args()
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    with scratch("csins-bench-import-", REDIS_BENCH_URL) as (folder, redis):
        export = generate("liquidlogic", args.rows, folder / "export.csv")
        base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CSINS_")},
            "REDIS_URL": REDIS_BENCH_URL,
            "CSINS_DATA_DIR": str(folder),
            "CSINS_ENCRYPTION_KEYS": format_key("bench", new_key()),
        }
        convert_seconds, convert_said = timed(
            ["convert", str(export), "--out", str(folder / "out.ndjson")], base_env
        )
        with throwaway_database(server_url) as database_url:
            env = {**base_env, "DATABASE_URL": database_url}
            migrated(database_url, env)
            import_seconds, import_said = timed(["import", str(export), "--la", LA_CODE], env)
            queued = len(redis.keys("rq:job:deliver-*"))
        convert_rate, import_rate = args.rows / convert_seconds, args.rows / import_seconds
        ratio = import_rate / convert_rate
        print(f"convert: {convert_seconds:6.2f} s, {convert_rate:8.0f} rows/s   ({convert_said})")
        print(f"import:  {import_seconds:6.2f} s, {import_rate:8.0f} rows/s   ({import_said})")
        print(f"delivery jobs on Redis: {queued}")
        met = ratio >= TARGET_RATIO
        print(
            f"import/convert: {ratio:.3f} = 1/{1 / ratio:.1f} of convert's rows/s "
            f"(target >= 1/{1 / TARGET_RATIO:.0f}): " + ("MET" if met else "MISSED")
        )
        if args.profile:
            redis.flushdb()
            with throwaway_database(server_url) as database_url:
                env = {**base_env, "DATABASE_URL": database_url}
                migrated(database_url, env)
                profile(export, env, args.top)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
