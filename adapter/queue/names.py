"""The names RQ knows the service's work by: queues, jobs (by dotted path), job ids, limits.

The one place these are written (a test checks that every ``csins-*`` queue name is one the
worker listens to). Jobs are named by their dotted path, which RQ imports in the worker, so
nothing in ``adapter`` imports :mod:`jobs`: ``jobs`` imports ``adapter``, not the reverse.
"""

from __future__ import annotations

__all__ = [
    "ADDRESSEE_CONCURRENCY",
    "ADDRESSEE_LIMIT_PREFIX",
    "ALL_QUEUES",
    "DEFAULT_REDIS_URL",
    "DELIVERIES",
    "DELIVERY_FAILURE_TTL",
    "DELIVERY_JOB_TIMEOUT",
    "DELIVERY_RESULT_TTL",
    "DELIVER_JOB",
    "IMPORTS",
    "IMPORT_JOB",
    "IMPORT_JOB_TIMEOUT",
    "MAINTENANCE",
    "delivery_job_id",
    "import_job_id",
]
"""What ``from adapter.queue import ...`` gives of these names."""

DELIVERIES = "csins-deliveries"
"""Queue of ``deliver(delivery_id)`` jobs."""

IMPORTS = "csins-imports"
"""Queue of ``run_import(import_id)`` jobs: an export converted and written in the background."""

MAINTENANCE = "csins-maintenance"
"""Queue of the periodic jobs: sweep the outbox, check deadlines, checkpoint the receipt log."""

ALL_QUEUES = (MAINTENANCE, DELIVERIES, IMPORTS)
"""Every queue a worker listens to, in the order it takes jobs (a test checks the worker command
uses exactly these). Maintenance first: its jobs are short, and behind a backlog of deliveries
to slow addressees the sweep and the deadline check (the alerts before a breach) would wait
for the whole outage. Imports last: one runs for minutes, and the deliveries it queues should
not wait behind the next import."""

DELIVER_JOB = "jobs.deliver.deliver"
"""The delivery job, by the dotted name RQ imports in the worker."""

IMPORT_JOB = "jobs.imports.run_import"
"""The import job, by the dotted name RQ imports in the worker."""

IMPORT_JOB_TIMEOUT = 4 * 3600
"""Seconds one import job may run before RQ stops it (a 10 000-row export takes minutes)."""

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
"""Redis used when ``REDIS_URL`` is not set (``csins-adapter run`` starts one if none answers)."""

ADDRESSEE_CONCURRENCY = 2
"""Most deliveries to one addressee in flight at once, across all workers. A slow addressee then
holds two workers at most, and the rest go on delivering to everyone else, so run at least
three (``run`` starts three; compose.yaml runs three). Two, not one: a worker killed mid-send
keeps its slot until RQ's maintenance finds the job abandoned, and the addressee must not wait
for that."""

ADDRESSEE_LIMIT_PREFIX = "csins:addressee:"
"""Start of the per-addressee rate-limit keys (:data:`ADDRESSEE_CONCURRENCY` slots each)."""

DELIVERY_JOB_TIMEOUT = 300
"""Seconds one ``deliver`` job may run (its quick tries included) before RQ stops it."""

DELIVERY_RESULT_TTL = 3600
"""Seconds RQ keeps a finished delivery job (the database keeps the history for good)."""

DELIVERY_FAILURE_TTL = 7 * 24 * 3600
"""Seconds RQ keeps a crashed delivery job for inspection."""


def delivery_job_id(delivery_id: str, attempts: int) -> str:
    """One job id per try: a retry is a new job, and a second enqueue of the same try is not."""
    return f"deliver-{delivery_id}-{attempts}"


def import_job_id(import_id: str, attempt: int) -> str:
    """One job id per run of an import: a run taken over after a worker died is a new job."""
    return f"import-{import_id}-{attempt}"
