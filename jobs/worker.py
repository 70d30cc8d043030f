"""The worker process: RQ's ``SimpleWorker`` on every queue, with RQ's scheduler for retries.

``SimpleWorker`` runs each job in the worker process itself, so the context (database pool,
keyrings, channels) is built once per process rather than once per job; a job that hangs is
still stopped by RQ's job timeout, and a worker killed mid-job is covered by the sweeper.
"""

from __future__ import annotations

from rq import SimpleWorker

from adapter import logs
from config.settings import load_settings
from jobs.context import build_context, use_context
from jobs.queues import ALL_QUEUES, connect

MAINTENANCE_INTERVAL = 60
"""Seconds between a worker's RQ housekeeping runs (RQ's default is 600): each run frees what a
killed worker left behind (its job's rate-limit slot, once the job's heartbeat has expired) and
takes over RQ's scheduler when the worker that ran it is gone, so retries do not wait long."""


def make_worker(name: str | None = None) -> SimpleWorker:
    settings = load_settings()
    use_context(build_context(settings))
    return SimpleWorker(
        list(ALL_QUEUES),
        connection=connect(settings),
        name=name,
        maintenance_interval=MAINTENANCE_INTERVAL,
    )


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    """Work until stopped (or, with ``burst``, until the queues are empty)."""
    level = load_settings().log_level
    logs.configure(level)  # before RQ's own set-up, which then adds no handler of its own
    return make_worker(name).work(burst=burst, with_scheduler=True, logging_level=level)
