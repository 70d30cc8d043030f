"""Per-addressee slots held by jobs no worker runs are reclaimed (issue 19 item 5).

The probe killed a worker mid-send and crashed Redis: the two Panel slots stayed held by jobs
marked started (or queued on no queue) that nothing would ever run, and eight Panel deliveries
waited with the workers idle. The sweep now frees such slots and enqueues their deliveries.
"""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.rate_limit import RateLimitRegistry
from sqlalchemy import select

from adapter.queue import (
    ADDRESSEE_LIMIT_PREFIX,
    DELIVERIES,
    DELIVERY_JOB_TIMEOUT,
    SERIALIZER,
    reclaim_addressee_slots,
)
from adapter.queue.slots import SUSPECT_PREFIX
from adapter.store.models import DeliveryRow
from jobs.context import build_context, use_context
from jobs.maintenance import sweep
from tests.support.api import API, new_record
from tests.support.service import Service


@pytest.fixture
def no_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sweep frees a slot the first time it sees its job unowned (the grace has its own
    tests below)."""
    monkeypatch.setattr("jobs.maintenance.SLOT_RECLAIM_GRACE_SECONDS", 0.0)


def _panel(service: Service) -> RateLimitRegistry:
    return RateLimitRegistry(f"{ADDRESSEE_LIMIT_PREFIX}panel", service.redis)


def _panel_statuses(service: Service, incidents: list[str]) -> list[str]:
    with service.database.session_scope() as session:
        return list(
            session.scalars(
                select(DeliveryRow.status)
                .where(DeliveryRow.incident_id.in_(incidents), DeliveryRow.addressee == "panel")
                .order_by(DeliveryRow.created_at)
            )
        )


def _sweep(service: Service) -> int:
    if service._context is None:  # the worker's context, as Service.work() builds it
        service._context = build_context(service.settings, service.database)
    use_context(service._context)
    return sweep()


@pytest.mark.usefixtures("no_grace")
def test_slots_held_by_jobs_no_worker_runs_are_reclaimed(service: Service) -> None:
    key = service.key("local_authority", "812")
    incidents = []
    for _ in range(3):
        record = new_record()
        record["children"][0]["looked_after"] = False  # the Panel alone
        response = service.post(f"{API}/incidents", key, record)
        assert response.status_code == 201, response.get_json()
        incidents.append(response.get_json()["id"])
    panel = _panel(service)
    held = panel.get_allowed_job_ids()
    assert len(held) == 2 and panel.get_rate_limited_job_count() == 1

    # A worker took the first job and was killed mid-send; Redis then crashed and came back
    # from its append-only file without the worker's registration or the job's execution. The
    # second job's place on the queue was lost with it, though the job still says "queued".
    started, _queued = held
    service.redis.hset(f"rq:job:{started}", "status", "started")
    service.redis.delete(f"rq:queue:{DELIVERIES}")

    service.work()  # RQ's own housekeeping runs: it keeps both slots (started, queued)
    assert _panel_statuses(service, incidents) == ["queued", "queued", "queued"]
    assert sorted(panel.get_allowed_job_ids()) == sorted(held)

    _sweep(service)  # frees both slots and enqueues their deliveries' tries again
    waiting = service.redis.lrange(f"rq:queue:{DELIVERIES}", 0, -1)
    assert sorted(id.encode() for id in panel.get_allowed_job_ids()) == sorted(waiting)
    assert len(waiting) == 2
    service.work()
    assert _panel_statuses(service, incidents) == ["acknowledged"] * 3
    assert panel.get_allowed_job_count() == 0


def _started(service: Service) -> Job:
    """A Panel delivery's job taken off the queue and marked started, as a worker does."""
    key = service.key("local_authority", "812")
    record = new_record()
    record["children"][0]["looked_after"] = False
    assert service.post(f"{API}/incidents", key, record).status_code == 201
    (job_id,) = _panel(service).get_allowed_job_ids()
    service.redis.hset(f"rq:job:{job_id}", "status", "started")
    service.redis.lrem(f"rq:queue:{DELIVERIES}", 0, job_id)
    return Job.fetch(job_id, connection=service.redis, serializer=SERIALIZER)


def _run_by(service: Service, job: Job, name: str) -> SimpleWorker:
    """A registered worker ``name`` and a live execution of ``job`` by it (its heartbeat)."""
    worker = SimpleWorker([DELIVERIES], name=name, connection=service.redis, serializer=SERIALIZER)
    worker.register_birth()
    with service.redis.pipeline() as pipeline:
        Execution.create(job, ttl=DELIVERY_JOB_TIMEOUT + 60, pipeline=pipeline, worker_name=name)
        pipeline.execute()
    return worker


def test_a_job_a_worker_is_running_keeps_its_slot(service: Service) -> None:
    """A started job with a live execution (its worker's heartbeat) is not touched."""
    job = _started(service)
    _run_by(service, job, "worker-1")
    _sweep(service)
    assert _panel(service).get_allowed_job_ids() == [job.id]


@pytest.mark.usefixtures("no_grace")
def test_a_job_whose_worker_registered_anew_frees_its_slot(service: Service) -> None:
    """Redis came back from its file under a worker that was running the job: the execution's
    heartbeat has minutes left, but the worker has registered anew since (``jobs.worker``), so
    no one runs the job. Its slot is freed and its delivery enqueued again."""
    job = _started(service)
    worker = _run_by(service, job, "worker-1")
    worker.register_death()
    SimpleWorker([DELIVERIES], name="worker-1", connection=service.redis).register_birth()
    _sweep(service)
    assert _panel(service).get_allowed_job_ids() == [job.id]  # enqueued again, a new job
    assert service.redis.lrange(f"rq:queue:{DELIVERIES}", 0, -1) == [job.id.encode()]
    assert Job.fetch(job.id, connection=service.redis, serializer=SERIALIZER).get_status() == (
        JobStatus.QUEUED
    )


def _taken(service: Service) -> Job:
    """A Panel delivery's job just popped from the queue by a worker that has not yet marked
    it started: for that moment it is "queued" on no queue."""
    key = service.key("local_authority", "812")
    record = new_record()
    record["children"][0]["looked_after"] = False
    assert service.post(f"{API}/incidents", key, record).status_code == 201
    (job_id,) = _panel(service).get_allowed_job_ids()
    service.redis.lrem(f"rq:queue:{DELIVERIES}", 0, job_id)
    return Job.fetch(job_id, connection=service.redis, serializer=SERIALIZER)


def test_a_job_a_worker_has_just_taken_keeps_its_slot(service: Service) -> None:
    """CI failed once on a sweep that deleted a job between a worker's pop and its start: the
    sweep saw it "queued on no queue". One look within the grace frees nothing, and a job that
    has since started under a live worker is not suspect at all."""
    job = _taken(service)
    assert reclaim_addressee_slots(service.redis, grace=10) == 0
    assert _panel(service).get_allowed_job_ids() == [job.id]

    service.redis.hset(f"rq:job:{job.id}", "status", "started")
    _run_by(service, job, "worker-1")
    assert reclaim_addressee_slots(service.redis, grace=0) == 0
    assert _panel(service).get_allowed_job_ids() == [job.id]


def _look_earlier(service: Service, job: Job, seconds: float) -> None:
    """Move the sweeps' first look at ``job`` back by ``seconds`` (Redis's clock cannot be)."""
    key = f"{SUSPECT_PREFIX}{job.id}"
    first, _, state = service.redis.get(key).decode().partition(" ")
    service.redis.set(key, f"{float(first) - seconds} {state}")


def test_a_slot_is_freed_once_its_job_has_looked_unowned_for_the_grace(service: Service) -> None:
    job = _taken(service)
    assert reclaim_addressee_slots(service.redis, grace=10) == 0
    assert reclaim_addressee_slots(service.redis, grace=10) == 0
    _look_earlier(service, job, 11)
    assert reclaim_addressee_slots(service.redis, grace=10) == 1
    assert _panel(service).get_allowed_job_ids() == []
    assert service.redis.get(f"{SUSPECT_PREFIX}{job.id}") is None


def test_a_job_whose_state_changed_waits_the_grace_again(service: Service) -> None:
    """Seen queued on no queue, then started by a worker that is gone: a new state, so the first
    look does not count towards the grace."""
    job = _taken(service)
    assert reclaim_addressee_slots(service.redis, grace=10) == 0
    _look_earlier(service, job, 11)
    service.redis.hset(f"rq:job:{job.id}", "status", "started")
    assert reclaim_addressee_slots(service.redis, grace=10) == 0
    assert _panel(service).get_allowed_job_ids() == [job.id]
