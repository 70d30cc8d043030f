"""Queue names and how work is put on them: the one place that knows RQ's names (DESIGN.md §2).

RQ carries only ids. Enqueueing is best-effort: the database row is the truth, and the sweeper
(:func:`jobs.maintenance.sweep`) re-enqueues any due delivery (or unfinished import) whose job
went missing, so a failure here (Redis down, flushed) delays work but never loses it.

Jobs are named by their dotted path (RQ imports them in the worker), so this module, and the
web process that publishes through :class:`RqPublisher`, never import :mod:`jobs`: ``jobs``
imports ``adapter``, not the reverse. The use cases do not call this module either: they leave
what to publish in the session (:mod:`adapter.store.publishing`), and the database hands it to
the publisher the composition root gave it, once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, RateLimit, cron_scheduler_registry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from adapter.clock import utcnow
from adapter.store.publishing import Publication
from config.settings import Settings

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

DELIVERY_JOB_TIMEOUT = 300
"""Seconds one ``deliver`` job may run (its quick tries included) before RQ stops it."""

DELIVERY_RESULT_TTL = 3600
"""Seconds RQ keeps a finished delivery job (the database keeps the history for good)."""

DELIVERY_FAILURE_TTL = 7 * 24 * 3600
"""Seconds RQ keeps a crashed delivery job for inspection."""

LIVE_JOB_STATUSES = frozenset(
    {
        JobStatus.QUEUED,
        JobStatus.SCHEDULED,
        JobStatus.STARTED,
        JobStatus.DEFERRED,
        JobStatus.RATE_LIMITED,
    }
)
"""Statuses of a job that will still run (or is running): enqueueing its try again is a no-op."""

log = logging.getLogger(__name__)


def redis_url(settings: Settings) -> str:
    return settings.redis_url or DEFAULT_REDIS_URL


def connect(settings: Settings) -> Redis:
    """This process's Redis client for ``settings`` (bytes responses, as RQ expects).

    One client per URL and process: its connection pool is thread-safe, and opening a new
    connection for every request cost more than the enqueue itself.
    """
    url = redis_url(settings)
    key = (url, os.getpid())  # a forked child must not share its parent's sockets
    client = _clients.get(key)
    if client is None:
        client = _clients.setdefault(
            key, Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
        )
    return client


_clients: dict[tuple[str, int], Redis] = {}


def delivery_job_id(delivery_id: str, attempts: int) -> str:
    """One job id per try: a retry is a new job, and a second enqueue of the same try is not."""
    return f"deliver-{delivery_id}-{attempts}"


SERIALIZER = JSONSerializer
"""How every job's function name and arguments are written to Redis: JSON, never pickle. Jobs
carry ids only, and unpickling runs whatever code the bytes name, so anyone who could write to
Redis could run code in a worker. Every queue, worker and the scheduler use this one."""


def queue(name: str, redis: Redis) -> Queue:
    """The queue ``name`` with the service's serializer (:data:`SERIALIZER`)."""
    return Queue(name, connection=redis, serializer=SERIALIZER)


def fetch_job(redis: Redis, job_id: str) -> Job | None:
    """Job ``job_id``, or None when Redis has no such job (never made, expired, flushed)."""
    try:
        return Job.fetch(job_id, connection=redis, serializer=SERIALIZER)
    except NoSuchJobError:
        return None


def job_status(redis: Redis, job_id: str) -> JobStatus | None:
    """The status of job ``job_id``, or None when Redis has no such job."""
    job = fetch_job(redis, job_id)
    return None if job is None else job.get_status(refresh=False)


def enqueue_delivery(
    redis: Redis,
    delivery_id: str,
    addressee: str,
    *,
    attempts: int = 0,
    at: dt.datetime | None = None,
    new: bool = False,
) -> bool:
    """Put the next try of one delivery on the queue (now, or at ``at``); False if it is there.

    "There" means the try's job is still waiting or running (:data:`LIVE_JOB_STATUSES`). A
    finished, failed or stopped job with the same id is replaced: the delivery row, not RQ, says
    whether there is work left (a failed delivery retried by hand is enqueued again).

    RQ refuses ``unique`` with a rate limit, so the check is a read: two enqueues racing can both
    pass it, which is harmless, because the delivery row lets one worker at a time send. ``new``
    says the delivery was created by the transaction committed a moment ago, so the read is
    skipped: its first try can only have been enqueued by a sweep racing this call, which is as
    harmless (and a job that comes before the delivery is due does nothing).
    """
    job_id = delivery_job_id(delivery_id, attempts)
    existing = None if new else fetch_job(redis, job_id)
    if existing is not None:
        if existing.get_status(refresh=False) in LIVE_JOB_STATUSES:
            return False
        existing.delete()
    deliveries = queue(DELIVERIES, redis)
    options: dict[str, Any] = {
        "job_id": job_id,
        "job_timeout": DELIVERY_JOB_TIMEOUT,
        "result_ttl": DELIVERY_RESULT_TTL,
        "failure_ttl": DELIVERY_FAILURE_TTL,
        "description": f"deliver {delivery_id} to {addressee} (try {attempts + 1})",
        "rate_limit": RateLimit(f"csins:addressee:{addressee}", ADDRESSEE_CONCURRENCY),
    }
    if at is not None and at > utcnow():
        deliveries.enqueue_at(at, DELIVER_JOB, delivery_id, **options)
    else:
        deliveries.enqueue(DELIVER_JOB, delivery_id, **options)
    return True


def enqueue_deliveries(
    settings: Settings, deliveries: Iterable[tuple[str, str]], *, new: bool = False
) -> int:
    """Best-effort enqueue after a commit; returns how many went on. Errors are logged only.

    ``new``: the deliveries were created by the transaction just committed (see
    :func:`enqueue_delivery`).
    """
    pending = list(deliveries)
    if not pending:
        return 0
    try:
        redis = connect(settings)
        return sum(
            enqueue_delivery(redis, delivery_id, addressee, new=new)
            for delivery_id, addressee in pending
        )
    except (RedisError, OSError) as error:
        log.warning("could not enqueue %d deliveries (the sweeper will): %s", len(pending), error)
        return 0


def enqueue_retry(settings: Settings, delivery_id: str, addressee: str, attempts: int) -> bool:
    """Best-effort enqueue of a delivery retried by hand, after the commit: its job id follows
    the tries already made, as the sweeper's does. Errors are logged only."""
    try:
        return enqueue_delivery(connect(settings), delivery_id, addressee, attempts=attempts)
    except (RedisError, OSError) as error:
        log.warning(
            "could not enqueue retried delivery %s (the sweeper will): %s",
            delivery_id,
            type(error).__name__,
        )
        return False


def import_job_id(import_id: str, attempt: int) -> str:
    """One job id per run of an import: a run taken over after a worker died is a new job."""
    return f"import-{import_id}-{attempt}"


def enqueue_import(redis: Redis, import_id: str, attempt: int = 0) -> bool:
    """Put run ``attempt`` of an import on the queue; False if that run's job is live already."""
    job_id = import_job_id(import_id, attempt)
    existing = fetch_job(redis, job_id)
    if existing is not None:
        if existing.get_status(refresh=False) in LIVE_JOB_STATUSES:
            return False
        existing.delete()
    queue(IMPORTS, redis).enqueue(
        IMPORT_JOB,
        import_id,
        job_id=job_id,
        job_timeout=IMPORT_JOB_TIMEOUT,
        result_ttl=DELIVERY_RESULT_TTL,
        failure_ttl=DELIVERY_FAILURE_TTL,
        description=f"import {import_id} (run {attempt + 1})",
    )
    return True


class RqPublisher:
    """The service's :class:`adapter.store.publishing.Publisher`: committed work onto RQ,
    best-effort (what Redis does not take, the sweeper enqueues)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def publish(self, publications: Sequence[Publication]) -> None:
        try:
            redis = connect(self._settings)
            for item in publications:
                if item.kind == "import":
                    enqueue_import(redis, item.id, item.attempts)
                else:
                    enqueue_delivery(
                        redis, item.id, item.addressee, attempts=item.attempts, new=item.new
                    )
        except (RedisError, OSError) as error:
            log.warning(
                "could not enqueue %d jobs (the sweeper will): %s",
                len(publications),
                type(error).__name__,
            )


def scheduler_running(connection: Redis) -> bool:
    """Whether a cron scheduler (``csins-adapter scheduler``) has been seen lately: without one
    nothing sweeps the outbox, checks deadlines or re-plans a passed publication limit, and
    DESIGN.md §2's web + workers alone would run without it unnoticed."""
    cron_scheduler_registry.cleanup(connection)
    return bool(cron_scheduler_registry.get_keys(connection))
