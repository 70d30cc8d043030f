"""The queue infrastructure: the one place that knows RQ's names and talks to Redis (DESIGN.md §2).

    names.py        queues, jobs by dotted path, job ids, timeouts, the per-addressee limit
    connection.py   this process's Redis client; SERIALIZER (JSON); queues and jobs by id
    publisher.py    committed work onto the queues, best-effort (RqPublisher, enqueue_*)
    slots.py        free the per-addressee slots of jobs that will never finish (the sweep)
    local_redis.py  a Redis server of our own for ``run`` and the tests; free_port()

Import the queue API from here (``from adapter.queue import SERIALIZER, RqPublisher``); the
local server from :mod:`adapter.queue.local_redis` (``free_port`` for any server's port). The
web process publishes through :class:`RqPublisher`, given by the composition root; nothing in
``adapter`` imports :mod:`jobs`, whose functions RQ is given by dotted name.
"""

from __future__ import annotations

from adapter.queue import names
from adapter.queue.connection import (
    LIVE_JOB_STATUSES,
    SERIALIZER,
    connect,
    fetch_job,
    job_status,
    queue,
    redis_url,
    scheduler_running,
)
from adapter.queue.names import *  # noqa: F403  (names.__all__: queues, jobs, ids, timeouts)
from adapter.queue.publisher import (
    RqPublisher,
    enqueue_deliveries,
    enqueue_delivery,
    enqueue_import,
)
from adapter.queue.slots import reclaim_addressee_slots

__all__ = [
    *names.__all__,
    "LIVE_JOB_STATUSES",
    "SERIALIZER",
    "RqPublisher",
    "connect",
    "enqueue_deliveries",
    "enqueue_delivery",
    "enqueue_import",
    "fetch_job",
    "job_status",
    "queue",
    "reclaim_addressee_slots",
    "redis_url",
    "scheduler_running",
]
