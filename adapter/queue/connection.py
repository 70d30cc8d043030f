"""This process's Redis client, and how RQ reads and writes on it: JSON, never pickle.

Every queue, job lookup, worker and the scheduler use :data:`SERIALIZER`; :func:`queue` and
:func:`fetch_job` pass it, so nothing here or in ``jobs`` needs to.
"""

from __future__ import annotations

import os

from redis import Redis
from rq import Queue, cron_scheduler_registry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from adapter.queue.names import DEFAULT_REDIS_URL
from config.settings import Settings

SERIALIZER = JSONSerializer
"""How every job's function name and arguments are written to Redis: JSON, never pickle. Jobs
carry ids only, and unpickling runs whatever code the bytes name, so anyone who could write to
Redis could run code in a worker. Every queue, worker and the scheduler use this one."""

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


def scheduler_running(connection: Redis) -> bool:
    """Whether a cron scheduler (``csins-adapter scheduler``) has been seen lately: without one
    nothing sweeps the outbox, checks deadlines or re-plans a passed publication limit, and
    DESIGN.md §2's web + workers alone would run without it unnoticed."""
    cron_scheduler_registry.cleanup(connection)
    return bool(cron_scheduler_registry.get_keys(connection))
