"""The delivery workers' heartbeats, as RQ records them in Redis, for the dashboard.

Redis is not the source of truth and may be down: then the dashboard says the workers' state is
unknown instead of failing (the database still shows every queue).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from redis.exceptions import RedisError
from rq import Worker
from rq.worker import BaseWorker

from adapter.queue import connect
from config.settings import Settings

STALE_AFTER = dt.timedelta(minutes=2)
"""A worker whose last heartbeat is older than this is shown as not responding."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerBeat:
    """One worker as RQ last heard from it."""

    name: str
    state: str
    last_heartbeat: dt.datetime | None
    queues: tuple[str, ...]
    responding: bool


def worker_beats(settings: Settings, now: dt.datetime) -> list[WorkerBeat] | None:
    """Every registered worker, by name; None when Redis cannot be asked."""
    try:
        redis = connect(settings)
        workers = Worker.all(connection=redis)
        beats = [_beat(worker, now) for worker in workers]
    except (RedisError, OSError) as error:
        log.warning("worker heartbeats unavailable: %s", type(error).__name__)
        return None
    return sorted(beats, key=lambda beat: beat.name)


def _beat(worker: BaseWorker, now: dt.datetime) -> WorkerBeat:
    heartbeat = worker.last_heartbeat
    if heartbeat is not None and heartbeat.tzinfo is None:
        heartbeat = heartbeat.replace(tzinfo=dt.UTC)  # RQ stores naive UTC
    state = worker.get_state()
    return WorkerBeat(
        name=worker.name,
        state=str(getattr(state, "value", state)),
        last_heartbeat=heartbeat,
        queues=tuple(worker.queue_names()),
        responding=heartbeat is not None and now - heartbeat <= STALE_AFTER,
    )
