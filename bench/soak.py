"""Soak test (issue 19): many clients for minutes, a worker killed and Redis restarted meanwhile.

Run ``.venv/bin/python bench/soak.py [--clients 20] [--seconds 600] [--database-url URL]
[--quick]``. On loopback it starts, in a throwaway PostgreSQL database (on the server of
``--database-url``, default ``DATABASE_URL`` or the local one; created and dropped):

- its own Redis (``redis-server`` as ``csins-adapter run`` and ``compose.yaml`` configure theirs:
  append-only file, fsync every second, no snapshots) on a free port, so it can be killed;
- ``csins-adapter serve`` (gunicorn, its default 2 workers x 4 threads), 2 ``csins-adapter
  worker`` processes, ``csins-adapter scheduler`` (the cron table: the outbox sweep every 15 s)
  and ``csins-adapter sandbox`` (in memory) as the four addressees' endpoint;

then ``--clients`` client threads (``bench/soak_load.py``) submit and read for ``--seconds``.
At a third of the run one worker is killed with SIGKILL (with what it forked) and a replacement
started, as a supervisor would; at two thirds Redis is killed with SIGKILL and started again on
the same port from its append-only file (``--redis-down`` seconds later; ``--redis-empty``
deletes the file first, as losing the machine would). Then the clients stop, the outbox is
waited for (at most ``--drain`` seconds) and ``bench/soak_checks.py`` checks the database, the
receiver and the receipt log. It prints the figures and exits 1 if any check fails, 2 if the
run passed its hard cap on wall time. Everything it starts is stopped, and its database and
files are removed, however it ends (Ctrl-C included).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import api as api_bench  # noqa: E402 - the throwaway database
import soak_checks  # noqa: E402
import soak_load  # noqa: E402
import soak_service  # noqa: E402
import stack as bench_stack  # noqa: E402 - the logs' tails after a failure
from soak_service import Service  # noqa: E402

DRAIN_SECONDS = 300.0
"""Longest the outbox may take to drain once the clients stop (at least)."""

KILLED_JOB_SECONDS = 300 + 60 + 60 + 2 * 15
"""How long after its worker is killed a delivery can wait: if RQ had started its job but the
try was not yet recorded, the row stays ``queued`` and the job looks alive to RQ (and so to
the sweep) until its execution's heartbeat expires (a ``SimpleWorker``'s lasts the job timeout,
300 s, + 60 s, and RQ reads it 60 s late); then the next sweep (every 15 s) enqueues it again.
The drain is made long enough for that, after a kill at a third of the run."""

HARD_CAP_MARGIN = 240.0
"""Wall time allowed on top of the run and the drain (start-up, the end checks)."""

PROGRESS_SECONDS = 30
"""Seconds between progress lines."""

SAMPLE_SECONDS = 5
"""Seconds between looks at the outbox's backlog."""

WARM_SECONDS = 60.0
"""When the service's memory is first measured (it is measured again at the end)."""

QUICK = {"clients": 3, "seconds": 40.0, "stuck_after": 20}
"""``--quick``: a smoke run. A worker killed mid-send leaves its delivery ``sending`` for the
policy's ``stuck_delivery_seconds`` (360) before the sweep sends it again: the quick run
shortens that (safe here: a send to the sandbox takes milliseconds). A delivery whose try had
not started still waits :data:`KILLED_JOB_SECONDS`."""

LONDON = ZoneInfo("Europe/London")


class HardCap(Exception):
    """The run passed its hard cap on wall time."""


# --- the run -------------------------------------------------------------------------------

Fault = Callable[[], str]
"""Plays one fault on the running service; says what it did."""


@dataclass
class Run:
    """What happened during the load: clients, faults (seconds into the run), the outbox, the
    processes' memory."""

    clients: list[soak_load.Client] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    seconds: float = 0.0
    peak_backlog: int = 0
    drain_seconds: float | None = None
    dead: list[str] = field(default_factory=list)
    memory: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """Resident MiB of each part of the service, after warming up and at the end."""
    marks: soak_checks.Marks = field(default_factory=soak_checks.Marks)

    def tally(self) -> soak_load.Tally:
        total = soak_load.Tally()
        for client in self.clients:
            total.merge(client.tally)
        return total

    def created(self) -> int:
        """Incidents created so far (read while the clients run)."""
        return sum(len(client.tally.created) for client in self.clients)


def faults(service: Service, options: argparse.Namespace, run: Run) -> list[tuple[float, Fault]]:
    """The two faults and when (seconds into the run) each is played; each notes its time."""

    def worker() -> str:
        killed_at = dt.datetime.now(dt.UTC)
        said, delivery = soak_service.kill_worker(service)
        run.marks = replace(run.marks, killed_at=killed_at, killed_delivery=delivery)
        return said

    def redis() -> str:
        before, down = run.created(), dt.datetime.now(dt.UTC)
        said = soak_service.restart_redis(service, options.redis_down, options.redis_empty)
        run.marks = replace(run.marks, redis_down=(down, dt.datetime.now(dt.UTC)))
        return f"{said}; {run.created() - before} incidents created meanwhile"

    return [(options.seconds / 3, worker), (2 * options.seconds / 3, redis)]


def load(service: Service, options: argparse.Namespace, run: Run) -> None:
    """Drive the clients for ``options.seconds``, playing the faults on the way."""
    today = dt.datetime.now(LONDON).date()
    records = soak_load.Records(uuid.uuid4().hex[:8], today)
    stop = threading.Event()
    began = time.monotonic()
    run.clients = list(
        soak_load.run_clients(
            service.base_url, service.key, records, options.clients, options.think, stop
        )
    )
    due = faults(service, options, run)
    ticks = 0
    try:
        while (elapsed := time.monotonic() - began) < options.seconds:
            if due and elapsed >= due[0][0]:
                run.faults.append((elapsed, due.pop(0)[1]()))
                print(f"  {elapsed:6.1f} s  {run.faults[-1][1]}", flush=True)
            if ticks % (SAMPLE_SECONDS * 2) == 0:
                sample(service, run, elapsed, show=ticks % (PROGRESS_SECONDS * 2) == 0)
            if elapsed >= WARM_SECONDS and "warm" not in run.memory:
                run.memory["warm"] = service.memory()
            run.dead += [name for name in service.dead() if name not in run.dead]
            ticks += 1
            time.sleep(0.5)
    finally:
        run.seconds = time.monotonic() - began
        run.memory["end"] = service.memory()
        if not soak_load.join(stop, timeout=90):
            run.dead.append("a client thread did not stop within 90 s")


def sample(service: Service, run: Run, elapsed: float, *, show: bool) -> None:
    """Note the outbox's backlog; with ``show``, print a progress line."""
    backlog = service.backlog()
    waiting = sum(n for status, n in backlog.items() if status != "acknowledged")
    run.peak_backlog = max(run.peak_backlog, waiting)
    if not show or not elapsed:
        return
    done = sum(client.tally.done for client in run.clients)
    failed = sum(client.tally.failed for client in run.clients)
    print(
        f"  {elapsed:6.1f} s  {done} requests ({done / elapsed:.1f}/s), {failed} 5xx or no "
        f"answer; outbox: {backlog['acknowledged']} acknowledged, {waiting} waiting; "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def drain(service: Service, run: Run, seconds: float) -> None:
    """Wait until no delivery is left to send (at most ``seconds``)."""
    began = time.monotonic()
    next_progress = began + PROGRESS_SECONDS
    while True:
        backlog = service.backlog()
        waiting = {s: n for s, n in backlog.items() if s not in ("acknowledged", "failed")}
        if not waiting:
            run.drain_seconds = time.monotonic() - began
            return
        if time.monotonic() - began > seconds:
            print(f"  the outbox did not drain in {seconds:g} s: {waiting}", flush=True)
            for line in soak_service.stuck_report(service):
                print(f"    {line}", flush=True)
            return
        if time.monotonic() >= next_progress:
            next_progress += PROGRESS_SECONDS
            print(f"  draining: {waiting}", flush=True)
        time.sleep(1)


# --- the figures ---------------------------------------------------------------------------


def report(
    run: Run, checks: list[soak_checks.Check], options: argparse.Namespace, service: Service
) -> None:
    tally = run.tally()
    print(f"\nrequests ({run.seconds:.0f} s, {options.clients} clients):")
    print(f"  {'kind':<20} {'requests':>8}  {'statuses':<28} {'p50 ms':>8} {'p99 ms':>8}")
    for kind in soak_load.MIX:
        histogram = tally.latencies.get(kind, soak_load.Histogram())
        statuses = sorted((status, n) for (k, status), n in tally.statuses.items() if k == kind)
        shown = ", ".join(f"{status}: {n}" for status, n in statuses)
        print(
            f"  {kind:<20} {histogram.count:>8}  {shown:<28} "
            f"{histogram.percentile(0.5):>8.1f} {histogram.percentile(0.99):>8.1f}"
        )
    print(
        f"  {'all':<20} {tally.requests():>8}  {tally.requests() / run.seconds:.1f} requests/s, "
        f"{sum(tally.created.values()) / run.seconds:.1f} incidents/s"
    )
    print("faults:")
    for at, what in run.faults:
        print(f"  {at:6.1f} s  {what}")
    drained = "not drained" if run.drain_seconds is None else f"{run.drain_seconds:.0f} s"
    tracebacks, swept = soak_service.logs_summary(service.folder)
    print(
        f"outbox: at most {run.peak_backlog} deliveries waiting during the run; drained in "
        f"{drained} after it; the sweeps re-enqueued {swept}"
    )
    print("tracebacks in the logs: " + ", ".join(f"{k} {n}" for k, n in tracebacks.items()))
    print("creation to acknowledgement:")
    for line in soak_checks.delivery_latencies(service.engine, run.marks):
        print(f"  {line}")
    for moment, parts in run.memory.items():
        shown = ", ".join(
            f"{name} {sum(each):.0f} ({len(each)} processes, largest {max(each):.0f})"
            for name, each in sorted(parts.items())
        )
        print(f"resident MiB ({moment}): {shown}")
    for unexpected in tally.samples:
        print(f"  unexpected: {unexpected}")
    print("checks:")
    for check in checks:
        print(f"  [{'pass' if check.passed else 'FAIL'}] {check.name}: {check.figures}")


def end_checks(service: Service, run: Run) -> list[soak_checks.Check]:
    tally = run.tally()
    checks = [
        soak_checks.Check(
            "no 5xx and no request unanswered",
            tally.server_errors() == 0,
            f"{tally.server_errors()} of {tally.requests()}",
        ),
        soak_checks.Check(
            "every answer the expected one",
            tally.unexpected() == 0,
            f"{tally.unexpected()} unexpected",
        ),
        soak_checks.Check(
            "the outbox drained",
            run.drain_seconds is not None,
            f"in {run.drain_seconds or 0:.0f} s after the clients stopped",
        ),
        soak_checks.Check(
            "every process of the service stayed up", not run.dead, ", ".join(run.dead) or "all"
        ),
    ]
    checks += soak_checks.submissions(service.engine, tally)
    receiver = soak_checks.receiver_stats(service.sandbox_url)
    checks += soak_checks.deliveries(service.engine, receiver)
    witness = service.folder / "data" / "receipt-checkpoints.jsonl"
    checks.append(soak_checks.receipts_audit(service.env, witness))
    return checks


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL") or api_bench.DEFAULT_SERVER
    )
    parser.add_argument("--quick", action="store_true", help="A smoke run: 3 clients, 40 s")
    parser.add_argument("--think", type=float, default=0.5, help="Mean seconds between requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain", type=float, help="Longest wait for the outbox (seconds)")
    parser.add_argument("--redis-down", type=float, default=5.0)
    parser.add_argument("--redis-empty", action="store_true")
    parser.add_argument("--stuck-after", type=int, default=0, help="Policy override (seconds)")
    options = parser.parse_args()
    if options.quick:
        for name, value in QUICK.items():
            if getattr(options, name) == parser.get_default(name):
                setattr(options, name, value)
    if options.drain is None:
        after_kill = options.seconds / 3 + KILLED_JOB_SECONDS - options.seconds
        options.drain = max(DRAIN_SECONDS, after_kill + 30)
    return options


_NOT_LOGS = shutil.ignore_patterns("*.aof", "*.rdb", "*.pem", "password", "*.json*")
"""What a failed run's kept folder leaves out: Redis's data, keys, the receiver's state."""


def _hard_cap(_signum: int, _frame: FrameType | None) -> None:
    raise HardCap


def main() -> int:
    options = arguments()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # unwinds every `with` too
    signal.signal(signal.SIGALRM, _hard_cap)
    cap = options.seconds + options.drain + HARD_CAP_MARGIN
    signal.alarm(int(cap))
    folder = Path(tempfile.mkdtemp(prefix="csins-soak-"))
    run = Run()
    print(
        f"soak {dt.datetime.now(LONDON):%Y-%m-%d %H:%M}: {options.clients} clients for "
        f"{options.seconds:g} s (think {options.think:g} s), drain at most {options.drain:.0f} s, "
        f"hard cap {cap:.0f} s; serve + {options.workers} workers + scheduler + sandbox on "
        "PostgreSQL; Redis as `run` and compose.yaml configure it (append-only file, fsync "
        f"every second, no snapshots){' restarted empty' if options.redis_empty else ''}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        + (f"; stuck_delivery_seconds {options.stuck_after}" if options.stuck_after else ""),
        flush=True,
    )
    try:
        with contextlib.ExitStack() as stack:
            database_url = stack.enter_context(api_bench.throwaway_database(options.database_url))
            service = soak_service.start_service(
                stack, folder, database_url, options.workers, options.stuck_after
            )
            load(service, options, run)
            drain(service, run, options.drain)
            checks = end_checks(service, run)
            report(run, checks, options, service)
            passed = all(check.passed for check in checks)
            if not passed:
                kept = shutil.copytree(folder, f"{folder}-failed", ignore=_NOT_LOGS)
                print(f"the service's logs are kept in {kept}")
    except HardCap:
        print(f"FAILED: the soak passed its hard cap of {cap:.0f} s", file=sys.stderr)
        return 2
    except BaseException:
        bench_stack.print_log_tails(folder)
        raise
    finally:
        signal.alarm(0)
        shutil.rmtree(folder, ignore_errors=True)
    print(
        f"load average {os.getloadavg()[0]:.1f} at the end; soak "
        + ("PASSED" if passed else "FAILED")
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
