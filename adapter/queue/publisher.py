"""How committed work is put on the queues: best-effort, by id, through :class:`RqPublisher`.

RQ carries only ids. Enqueueing is best-effort: the database row is the truth, and the sweeper
(:func:`jobs.maintenance.sweep`) re-enqueues any due delivery (or unfinished import) whose job
went missing, so a failure here (Redis down, flushed) delays work but never loses it. The use
cases do not call this module: they leave what to publish in the session
(:mod:`adapter.store.publishing`), and the database hands it to the publisher the composition
root gave it, once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import RateLimit

from adapter.clock import utcnow
from adapter.queue.connection import LIVE_JOB_STATUSES, connect, fetch_job, queue
from adapter.queue.names import (
    ADDRESSEE_CONCURRENCY,
    ADDRESSEE_LIMIT_PREFIX,
    DELIVER_JOB,
    DELIVERIES,
    DELIVERY_FAILURE_TTL,
    DELIVERY_JOB_TIMEOUT,
    DELIVERY_RESULT_TTL,
    IMPORT_JOB,
    IMPORT_JOB_TIMEOUT,
    IMPORTS,
    delivery_job_id,
    import_job_id,
)
from adapter.store.publishing import Publication
from config.settings import Settings

log = logging.getLogger(__name__)


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
        "rate_limit": RateLimit(f"{ADDRESSEE_LIMIT_PREFIX}{addressee}", ADDRESSEE_CONCURRENCY),
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
                        redis,
                        item.id,
                        item.addressee,
                        attempts=item.attempts,
                        new=item.new,
                        at=item.at,
                    )
        except (RedisError, OSError) as error:
            log.warning(
                "could not enqueue %d jobs (the sweeper will): %s",
                len(publications),
                type(error).__name__,
            )
