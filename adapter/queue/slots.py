"""Per-addressee slots held by delivery jobs that will never run or finish, freed by the sweep.

Each delivery job takes one of its addressee's :data:`~adapter.queue.names.ADDRESSEE_CONCURRENCY`
slots (an RQ rate limit) while it waits or runs; RQ frees it when the job ends.

A job looks unowned for a moment in the normal course of things: a worker that pops it from the
queue holds it only in memory until it marks it started. So a slot is freed only when its job
has looked unowned, in the same state, to sweeps at least ``grace`` seconds apart (by Redis's
clock, which every sweeping process shares); one look could delete a job a worker is starting.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import TYPE_CHECKING

from redis import Redis
from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.utils import as_text

from adapter.queue.connection import fetch_job, queue
from adapter.queue.names import ADDRESSEE_LIMIT_PREFIX

SUSPECT_PREFIX = "csins:slot-suspect:"
"""Start of the keys recording when a sweep first saw a slot's job unowned, and in what state."""

SUSPECT_TTL_SECONDS = 600
"""Seconds such a record is kept: longer than any grace, so a job seen again later is not
judged on a look from long ago (it then waits one grace more)."""

if TYPE_CHECKING:
    from rq.executions import Execution

log = logging.getLogger(__name__)


def reclaim_addressee_slots(redis: Redis, grace: float) -> int:
    """Free the per-addressee slots held by delivery jobs that will never run or finish, and
    let waiting jobs take them; returns how many were freed (the sweep calls this).

    RQ frees a slot when its job ends, and its own housekeeping frees those of jobs in any other
    state than queued or started. After a worker is killed and Redis crashes (its append-only
    file a second behind), a job can be left "started" with no worker running it or "queued" on
    no queue; after Redis restarts under a worker that was running a job, the job is left
    "started" by a worker that has since registered anew (:func:`_run_by_a_live_worker`). Such
    a job holds its slot for minutes or for good, and every delivery to that addressee waits
    behind it with the workers idle. It is deleted (which frees its slot and promotes the next
    waiting job); its delivery row still says what is owed, so the sweep enqueues it again.
    Only once it has looked so for ``grace`` seconds (:func:`_unowned_for`): between popping a
    job and marking it started, a worker leaves it "queued on no queue".
    """
    from rq.rate_limit import RateLimitRegistry

    freed = 0
    for registry in RateLimitRegistry.all(redis):
        if not registry.key.startswith(ADDRESSEE_LIMIT_PREFIX):
            continue
        for job_id in registry.get_allowed_job_ids():
            job = fetch_job(redis, job_id)
            if job is None:
                registry.release_stale_and_enqueue(job_id)  # RQ's own check: the job is gone
                freed += 1
                continue
            status, executions = job.get_status(refresh=False), []
            if status == JobStatus.STARTED:
                executions = _live_executions(redis, job_id)
                if any(_run_by_a_live_worker(redis, each) for each in executions):
                    continue
                state = "started " + " ".join(sorted(each.id for each in executions))
            elif status == JobStatus.QUEUED:
                if _on_its_queue(redis, job):
                    continue
                state = f"queued {job.enqueued_at}"
            else:
                continue  # RQ's housekeeping frees the slots of jobs in other states
            if not _unowned_for(redis, job_id, state, grace):
                continue
            log.warning(
                "freeing the %s slot of job %s: %s, but no worker runs it",
                registry.key.removeprefix(ADDRESSEE_LIMIT_PREFIX),
                job_id,
                "started" if status == JobStatus.STARTED else "queued on no queue",
            )
            _forget_executions(redis, job, executions)
            job.delete()
            freed += 1
    return freed


def _on_its_queue(redis: Redis, job: Job) -> bool:
    """Whether queued ``job`` waits on its queue, or on the list a worker moves it to as it
    takes it (RQ's intermediate queue, used by a worker listening to one queue)."""
    waiting = queue(job.origin, redis)
    return any(
        redis.lpos(key, job.id) is not None for key in (waiting.key, waiting.intermediate_queue_key)
    )


def _unowned_for(redis: Redis, job_id: str, state: str, grace: float) -> bool:
    """Record that ``job_id`` looks unowned in ``state``; whether it has looked so, in that same
    state, for at least ``grace`` seconds. A job whose state changed since (a worker started it,
    or another execution began) starts a new wait."""
    seconds, micros = redis.time()
    now = seconds + micros / 1_000_000
    key = f"{SUSPECT_PREFIX}{job_id}"
    seen = redis.get(key)
    if seen is not None:
        first, _, seen_state = as_text(seen).partition(" ")
        if seen_state == state:
            return now - float(first) >= grace
    redis.set(key, f"{now} {state}", ex=SUSPECT_TTL_SECONDS)
    return grace <= 0


def _live_executions(redis: Redis, job_id: str) -> list[Execution]:
    """The executions of ``job_id`` whose heartbeat has not expired (RQ's own clean-up drops
    the others first), each with its worker's name and start time."""
    from rq.executions import Execution, ExecutionRegistry

    found = []
    for execution_id in ExecutionRegistry(job_id, redis).get_execution_ids():
        with suppress(ValueError):  # its record has expired: no worker keeps it alive
            found.append(Execution.fetch(execution_id, job_id, redis))
    return found


def _run_by_a_live_worker(redis: Redis, execution: Execution) -> bool:
    """Whether a worker runs ``execution``: one registered under its worker's name, alive, and
    registered before the execution began.

    A worker that finds Redis gone mid-job records its outcome in the database, then registers
    anew once Redis is back (:mod:`jobs.worker`); Redis, restarted from its file, still holds
    the job "started" with the old execution's heartbeat minutes from expiring (a
    ``SimpleWorker``'s lasts the job timeout). That execution is no one's: its worker's
    registration is newer than it, or gone.
    """
    from rq.utils import utcparse

    key = f"{SimpleWorker.redis_worker_namespace_prefix}{execution.worker_name}"
    birth, death = redis.hmget(key, ["birth", "death"])
    return birth is not None and death is None and utcparse(as_text(birth)) <= execution.created_at


def _forget_executions(redis: Redis, job: Job, executions: list[Execution]) -> None:
    """Delete ``job``'s executions, which no worker runs: RQ keeps a job's slot while it has an
    execution whose heartbeat has not expired, however gone its worker."""
    from rq.executions import ExecutionRegistry

    with redis.pipeline() as pipeline:
        for execution in executions:
            execution.delete(job, pipeline)
        pipeline.delete(ExecutionRegistry(job.id, redis).key, f"{SUSPECT_PREFIX}{job.id}")
        pipeline.execute()
