"""DESIGN.md §2: Redis carries only ids, so a Redis outage stops no process of the service.

A real ``csins-adapter worker`` and ``csins-adapter scheduler`` run against a Redis server of
the test's own (``adapter.queue.local_redis``, append-only), which the test stops and starts
again: with its data, and empty (its files gone, as after losing a machine). Both processes
must live through it, work again once Redis answers (the scheduler's sweep finds what was
submitted meanwhile), record the send that was under way exactly once, and still stop on
SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rq import Worker
from rq.rate_limit import RateLimitRegistry

from adapter.queue import ADDRESSEE_LIMIT_PREFIX, local_redis
from tests.e2e.conftest import WAIT_SECONDS, Stack, WorkerProcess, make_record

HELD_SECONDS = 5
"""How long the receiver holds the send under way while Redis is stopped under the worker."""

LOST = "lost Redis"
"""What the worker and the scheduler log when Redis goes away (``jobs.outages``)."""


@dataclass
class RedisServer:
    """A Redis server of one test, on a free port, with its append-only file under ``folder``."""

    folder: Path
    port: int = field(default_factory=local_redis.free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, empty: bool = False) -> None:
        if empty:  # what the append-only file kept is gone too
            shutil.rmtree(self.folder / "redis", ignore_errors=True)
        self.process, url = local_redis.start(self.folder, self.port)
        assert url == self.url

    def stop(self) -> None:
        """SIGTERM, as a restart or a failover does (the server writes its file first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=WAIT_SECONDS)
        self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis-server")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def e2e_redis(redis_server: RedisServer) -> str:
    """This module's tests stop their Redis: each has its own, not the run's shared one."""
    return redis_server.url


def start_scheduler(stack: Stack) -> WorkerProcess:
    """``csins-adapter scheduler`` in its own session, watched by ``stack.wait_for`` and
    stopped with the stack like its workers."""
    return stack.start_process("scheduler", "scheduler")


def log_of(process: WorkerProcess) -> str:
    return process.log_path.read_text(encoding="utf-8", errors="replace")


def registered(stack: Stack, name: str) -> bool:
    return any(worker.name == name for worker in Worker.all(connection=stack.redis))


def start_both(stack: Stack) -> tuple[WorkerProcess, WorkerProcess]:
    """A worker (``e2e-1``) and a scheduler, each once it has registered with Redis."""
    worker, scheduler = stack.start_worker(), start_scheduler(stack)
    stack.wait_for(lambda: registered(stack, "e2e-1"), "the worker to register")
    stack.wait_for(lambda: "registering birth" in log_of(scheduler), "the scheduler to start")
    return worker, scheduler


def stop_on_sigterm(*processes: WorkerProcess) -> None:
    """SIGTERM each process's group (as ``csins-adapter run`` stops them): each must exit 0."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:  # generous: CI machines are loaded, and the exit waits for a job under way
            code = process.process.wait(timeout=2 * WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGABRT)  # faulthandler prints where every thread is
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.process.wait(timeout=10)
            pytest.fail(f"pid {process.pid} did not stop on SIGTERM:\n{log_of(process)}")
        assert code == 0, log_of(process)


@pytest.mark.slow
@pytest.mark.parametrize("channel_timeout", [HELD_SECONDS + 5])
@pytest.mark.parametrize("with_its_data", [True, False], ids=["with-its-data", "empty"])
def test_worker_and_scheduler_outlive_a_redis_outage(
    stack: Stack, redis_server: RedisServer, with_its_data: bool
) -> None:
    worker, scheduler = start_both(stack)
    # The receiver holds the first send while Redis goes: the worker records the
    # acknowledgement in the database, then finds Redis gone as it tells RQ the job ended.
    stack.fault(addressee="panel", delay=HELD_SECONDS, times=1)
    sent = stack.submit(make_record())
    stack.wait_for(lambda: stack.requests("panel") == 1, "the worker to be sending")
    redis_server.stop()

    stack.wait_acknowledged(sent)
    stack.wait_for(lambda: LOST in log_of(worker), "the worker to notice Redis is gone")
    stack.wait_for(lambda: LOST in log_of(scheduler), "the scheduler to notice Redis is gone")
    # Submitted while Redis is down: the API's enqueue fails, so only a sweep (enqueued by the
    # scheduler, run by the worker) can send it.
    while_down = stack.submit(make_record())
    sweeps_before = log_of(scheduler).count("Enqueued job sweep")
    redis_server.start(empty=not with_its_data)

    stack.wait_for(
        lambda: log_of(scheduler).count("Enqueued job sweep") > sweeps_before,
        "the scheduler to enqueue a sweep again",
        timeout=2 * WAIT_SECONDS,
    )
    # The worker waits up to MAX_WAIT_SECONDS between looks at Redis. Its old registration
    # may be back with Redis's file: it must have registered anew.
    stack.wait_for(
        lambda: log_of(worker).count("e2e-1: started") == 2 and registered(stack, "e2e-1"),
        "the worker to register again",
        2 * WAIT_SECONDS,
    )
    after = stack.submit(make_record())
    stack.wait_status(while_down + after, "acknowledged")

    assert worker.process.poll() is None, log_of(worker)
    assert scheduler.process.poll() is None, log_of(scheduler)
    stack.assert_delivered_once(sent + while_down + after)
    assert stack.requests("panel") == 3  # the held send was not sent again
    for process in (worker, scheduler):
        text = log_of(process)
        assert "redis://" not in text  # a URL may hold a password: none is ever logged
        assert "found an unhandled exception" not in text  # RQ's loop did not end on it
    stop_on_sigterm(worker, scheduler)


@pytest.mark.slow
def test_worker_and_scheduler_waiting_for_redis_stop_on_sigterm(
    stack: Stack, redis_server: RedisServer
) -> None:
    worker, scheduler = start_both(stack)
    redis_server.stop()
    stack.wait_for(lambda: LOST in log_of(worker), "the worker to notice Redis is gone")
    stack.wait_for(lambda: LOST in log_of(scheduler), "the scheduler to notice Redis is gone")
    stop_on_sigterm(worker, scheduler)
    redis_server.start()  # for the stack's own clean-up


def panel_slots(stack: Stack) -> list[str]:
    """The jobs holding the Panel's per-addressee slots."""
    return RateLimitRegistry(f"{ADDRESSEE_LIMIT_PREFIX}panel", stack.redis).get_allowed_job_ids()


@pytest.mark.slow
@pytest.mark.parametrize("channel_timeout", [HELD_SECONDS + 5])
def test_a_redis_restart_mid_send_leaves_no_addressee_slot_held(
    stack: Stack, redis_server: RedisServer
) -> None:
    """Found by ``bench/soak.py``: Redis restarted while both workers were sending to the
    Panel. Each recorded its acknowledgement, then found Redis gone as it told RQ the job had
    ended; Redis came back from its file with both jobs "started" and their executions'
    heartbeats minutes from expiring, so both Panel slots stayed held and every Panel delivery
    waited (about 7 minutes) with the workers idle. The workers are running again under new
    registrations: the sweep must see that no one runs those jobs and free their slots."""
    workers = [stack.start_worker(), stack.start_worker()]
    stack.wait_for(
        lambda: registered(stack, "e2e-1") and registered(stack, "e2e-2"),
        "the workers to register",
    )
    stack.fault(addressee="panel", delay=HELD_SECONDS, times=2)
    sent = stack.submit(make_record()) + stack.submit(make_record())
    stack.wait_for(lambda: stack.requests("panel") == 2, "both workers to be sending")
    held = panel_slots(stack)
    assert len(held) == 2
    redis_server.stop()

    stack.wait_acknowledged(sent)
    for worker in workers:
        stack.wait_for(lambda w=worker: LOST in log_of(w), "the workers to notice Redis is gone")
    redis_server.start()
    for number, worker in enumerate(workers, start=1):
        stack.wait_for(
            lambda w=worker, n=number: (
                log_of(w).count(f"e2e-{n}: started") == 2 and registered(stack, f"e2e-{n}")
            ),
            "the workers to register again",
            2 * WAIT_SECONDS,
        )
    assert sorted(panel_slots(stack)) == sorted(held)  # RQ still counts them as running

    stack.wait_for(  # sweeps SLOT_RECLAIM_GRACE_SECONDS apart must see them unowned
        lambda: stack.sweep() >= 0 and not set(panel_slots(stack)) & set(held),
        "the sweeps to free the slots no worker runs",
    )
    after = stack.submit(make_record())
    stack.wait_acknowledged(after)
    stack.assert_delivered_once(sent + after)
