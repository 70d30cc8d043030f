"""Per-addressee slots held by delivery jobs that will never run or finish, freed by the sweep.

Each delivery job takes one of its addressee's :data:`~adapter.queue.names.ADDRESSEE_CONCURRENCY`
slots (an RQ rate limit) while it waits or runs; RQ frees it when the job ends.
"""

from __future__ import annotations

import logging

from redis import Redis
from rq.job import JobStatus

from adapter.clock import utcnow
from adapter.queue.connection import fetch_job, queue
from adapter.queue.names import ADDRESSEE_LIMIT_PREFIX

log = logging.getLogger(__name__)


def reclaim_addressee_slots(redis: Redis) -> int:
    """Free the per-addressee slots held by delivery jobs that will never run or finish, and
    let waiting jobs take them; returns how many were freed (the sweep calls this).

    RQ frees a slot when its job ends, and its own housekeeping frees those of jobs in any other
    state than queued or started. After a worker is killed and Redis crashes (its append-only
    file a second behind), a job can be left "started" with no worker running it (no live
    execution) or "queued" on no queue: it holds its slot for good, and every delivery to that
    addressee waits behind it with the workers idle. Such a job is deleted (which frees its
    slot and promotes the next waiting job); its delivery row still says what is owed, so the
    sweep enqueues it again.
    """
    from rq.executions import ExecutionRegistry
    from rq.rate_limit import RateLimitRegistry

    freed = 0
    now = utcnow().timestamp()
    for registry in RateLimitRegistry.all(redis):
        if not registry.key.startswith(ADDRESSEE_LIMIT_PREFIX):
            continue
        for job_id in registry.get_allowed_job_ids():
            job = fetch_job(redis, job_id)
            if job is None:
                registry.release_stale_and_enqueue(job_id)  # RQ's own check: the job is gone
                freed += 1
                continue
            status = job.get_status(refresh=False)
            if status == JobStatus.STARTED:
                running = redis.zcount(ExecutionRegistry(job_id, redis).key, f"({now}", "+inf")
                if running:
                    continue
            elif status == JobStatus.QUEUED:
                if redis.lpos(queue(job.origin, redis).key, job_id) is not None:
                    continue
            else:
                continue  # RQ's housekeeping frees the slots of jobs in other states
            log.warning(
                "freeing the %s slot of job %s: %s, but no worker runs it",
                registry.key.removeprefix(ADDRESSEE_LIMIT_PREFIX),
                job_id,
                "started" if status == JobStatus.STARTED else "queued on no queue",
            )
            job.delete()
            freed += 1
    return freed
