"""The sweeper against real Redis and the module's database, without a worker: which jobs it
leaves alone, and which it replaces (DESIGN.md §2: losing Redis, or a scheduler, loses no work)."""

from __future__ import annotations

import datetime as dt

import pytest
from rq import Queue
from rq.job import Job, JobStatus
from sqlalchemy import select, update

from adapter.clock import utcnow
from adapter.queue import DELIVERIES, delivery_job_id, enqueue_delivery, job_status
from adapter.store.models import DeliveryRow
from jobs import maintenance
from jobs.defaults import SCHEDULER_GRACE
from tests.e2e.conftest import Stack, make_record


def test_jobs_waiting_for_their_addressee_are_left_alone(stack: Stack) -> None:
    """Three deliveries to the Panel at once: two run, the third waits on the per-addressee
    limit (``rate_limited``), and a sweep must not take that for a lost job."""
    ids = [stack.commit_only(make_record())[0] for _ in range(3)]
    assert stack.sweep() == 3
    statuses = [job_status(stack.redis, delivery_job_id(i, 0)) for i in ids]
    assert sorted(s.value for s in statuses if s is not None) == [
        "queued",
        "queued",
        "rate_limited",
    ]

    assert stack.sweep() == 0
    assert [job_status(stack.redis, delivery_job_id(i, 0)) for i in ids] == statuses


def test_a_busy_addressee_leaves_the_others_queued_for_any_worker(stack: Stack) -> None:
    """A slow addressee cannot starve the others: while two deliveries to the Panel are in
    flight, the next waits on the limit, and a delivery to Ofsted is queued at once for
    whichever worker is free."""
    panel = [stack.commit_only(make_record())[0] for _ in range(3)]
    looked_after = stack.commit_only(make_record(looked_after=True))
    with stack.database.session_scope() as session:
        ofsted = session.scalars(
            select(DeliveryRow.id).where(
                DeliveryRow.id.in_(looked_after), DeliveryRow.addressee == "ofsted"
            )
        ).one()
    stack.sweep()
    assert job_status(stack.redis, delivery_job_id(ofsted, 0)) == JobStatus.QUEUED
    panel_statuses = sorted(
        s.value for i in panel if (s := job_status(stack.redis, delivery_job_id(i, 0)))
    )
    assert panel_statuses == ["queued", "queued", "rate_limited"]


def test_a_retry_no_scheduler_moves_is_enqueued_by_the_sweep(stack: Stack) -> None:
    """RQ's scheduler runs inside one worker; if that worker died, its scheduled retries would
    wait for its lock to expire and another worker to take over. The sweep does not wait."""
    (delivery_id,) = stack.commit_only(make_record())
    due = utcnow() - SCHEDULER_GRACE - dt.timedelta(seconds=5)
    with stack.database.session_scope() as session:
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(status="retrying", attempts=1, next_attempt_at=due)
        )
    job_id = delivery_job_id(delivery_id, 1)
    later = utcnow() + dt.timedelta(hours=1)  # as if the scheduler never moved it
    assert enqueue_delivery(stack.redis, delivery_id, "panel", attempts=1, at=later)
    assert job_status(stack.redis, job_id) == JobStatus.SCHEDULED

    assert stack.sweep() == 1
    assert job_status(stack.redis, job_id) == JobStatus.QUEUED
    assert Queue(DELIVERIES, connection=stack.redis).job_ids == [job_id]


def test_a_retry_not_yet_late_stays_scheduled(stack: Stack) -> None:
    (delivery_id,) = stack.commit_only(make_record())
    with stack.database.session_scope() as session:
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id)
            .values(status="retrying", attempts=1, next_attempt_at=utcnow())
        )
    later = utcnow() + dt.timedelta(seconds=20)
    assert enqueue_delivery(stack.redis, delivery_id, "panel", attempts=1, at=later)

    assert stack.sweep() == 0
    assert job_status(stack.redis, delivery_job_id(delivery_id, 1)) == JobStatus.SCHEDULED


def test_a_finished_job_of_the_same_try_is_replaced(stack: Stack) -> None:
    """A failed delivery retried by hand goes back on the queue, even though the API enqueues
    it under a job id that already ran (the row, not RQ, says whether work is left)."""
    (delivery_id,) = stack.commit_only(make_record())
    assert enqueue_delivery(stack.redis, delivery_id, "panel")
    job_id = delivery_job_id(delivery_id, 0)
    Queue(DELIVERIES, connection=stack.redis).remove(job_id)
    Job.fetch(job_id, connection=stack.redis).set_status(JobStatus.FINISHED)  # as if it ran

    assert enqueue_delivery(stack.redis, delivery_id, "panel")
    assert job_status(stack.redis, job_id) == JobStatus.QUEUED
    assert not enqueue_delivery(stack.redis, delivery_id, "panel")  # now it is there


def test_a_lost_job_behind_a_backlog_of_live_ones_is_found(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep reads every due delivery a batch at a time: one whose job was lost is found
    even when a whole batch before it is waiting, alive, on the per-addressee limit."""
    monkeypatch.setattr(maintenance, "SWEEP_BATCH", 2)
    ids = [stack.commit_only(make_record())[0] for _ in range(3)]
    assert stack.sweep() == 3
    lost = delivery_job_id(ids[-1], 0)
    Job.fetch(lost, connection=stack.redis).delete()

    assert stack.sweep() == 1
    assert job_status(stack.redis, lost) is not None
