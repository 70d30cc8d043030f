"""DESIGN.md §2: the database is the truth, so a crash anywhere loses no delivery and doubles
none. A worker killed mid-send, Redis flushed, the web process dead after its commit: the sweeper
finds every delivery again, each is acknowledged once, and each has exactly one receipt."""

from __future__ import annotations

import pytest
from rq import Queue, Worker

from adapter.queue import DELIVERIES
from tests.e2e.conftest import Stack, make_record

KILL_WINDOW_SECONDS = 10
"""How long the receiver holds the request the worker is killed in (the test waits less)."""


@pytest.mark.slow
@pytest.mark.parametrize("channel_timeout", [KILL_WINDOW_SECONDS + 5])
def test_worker_killed_mid_send(stack: Stack) -> None:
    # The receiver holds the first request for longer than the worker will live (and the
    # channel waits longer still), so the kill lands while the worker is sending.
    stack.fault(addressee="*", delay=KILL_WINDOW_SECONDS, times=1)
    first = stack.start_worker()
    ids = stack.submit(make_record(looked_after=True))
    assert len(ids) == 3

    def one_held() -> bool:
        rows = stack.deliveries(ids)
        held = sum(stack.requests(name) for name in ("panel", "secretary_of_state", "ofsted"))
        return held == 1 and any(row.status == "sending" for row in rows)

    stack.wait_for(one_held, "the worker to be sending its first delivery")
    first.kill()
    (sending,) = [row for row in stack.deliveries(ids) if row.status == "sending"]

    stack.start_worker()  # takes the other two from the queue straight away
    # The killed worker's try is stuck once stuck_delivery_seconds have passed: then the
    # sweeper enqueues its next try (a new job id), and the new worker sends it again.
    stack.wait_for(lambda: stack.sweep() >= 1, "the sweeper to pick up the stuck delivery")
    rows = stack.wait_acknowledged(ids)

    resent = next(row for row in rows if row.id == sending.id)
    assert resent.attempts == 2
    assert [a.outcome for a in stack.attempts(resent.id)] == [None, "acknowledged"]
    stack.assert_delivered_once(ids)


@pytest.mark.slow
def test_redis_flushed_with_deliveries_queued(stack: Stack) -> None:
    ids = stack.submit(make_record(looked_after=True)) + stack.submit(make_record())
    assert Queue(DELIVERIES, connection=stack.redis).count > 0
    stack.redis.flushdb()  # a Redis restarted without its data: every job is gone

    stack.start_worker()
    assert stack.sweep() == len(ids)
    stack.wait_acknowledged(ids)
    assert stack.sweep() == 0  # nothing is left to do, and nothing is sent twice
    stack.assert_delivered_once(ids)


@pytest.mark.slow
@pytest.mark.parametrize("channel_timeout", [KILL_WINDOW_SECONDS + 5])
def test_redis_flushed_under_a_running_worker(stack: Stack) -> None:
    """The worker survives losing its own keys, finishes the send it had started, and the
    sweeper gives it back the jobs that went."""
    # Held long enough that the flush surely lands while the other two jobs are still queued.
    stack.fault(addressee="panel", delay=3, times=1)
    worker = stack.start_worker()
    stack.wait_for(
        lambda: any(w.name == "e2e-1" for w in Worker.all(connection=stack.redis)),
        "the worker to register",
    )
    ids = stack.submit(make_record(looked_after=True))
    stack.wait_for(lambda: stack.requests("panel") == 1, "the first send")
    stack.redis.flushdb()

    stack.wait_for(lambda: stack.sweep() >= 1, "the sweeper to find the lost jobs")
    stack.wait_acknowledged(ids)
    assert worker.process.poll() is None
    stack.assert_delivered_once(ids)


@pytest.mark.slow
def test_web_process_died_after_commit(stack: Stack) -> None:
    ids = stack.commit_only(make_record(looked_after=True))
    assert len(ids) == 3
    assert Queue(DELIVERIES, connection=stack.redis).count == 0

    stack.start_worker()
    assert stack.sweep() == 3
    assert stack.sweep() == 0  # the jobs are there now: a second sweep adds nothing
    stack.wait_acknowledged(ids)
    stack.assert_delivered_once(ids)


@pytest.mark.slow
def test_sweep_twice_and_a_late_enqueue_send_once(stack: Stack) -> None:
    """Two schedulers sweeping, and the web's own enqueue arriving after the sweeper's: every
    delivery still goes once."""
    ids = stack.commit_only(make_record(looked_after=True))
    assert stack.sweep() == 3
    assert stack.sweep() == 0

    stack.start_worker()
    stack.wait_acknowledged(ids)
    from adapter.queue import enqueue_deliveries

    rows = stack.deliveries(ids)
    enqueue_deliveries(stack.settings, [(row.id, row.addressee) for row in rows])
    stack.wait_for(
        lambda: Queue(DELIVERIES, connection=stack.redis).count == 0, "the late jobs to run"
    )
    stack.assert_delivered_once(ids)
    assert all(row.attempts == 1 for row in stack.deliveries(ids))
