"""What the processes are wired to: the worker listens to every queue, RQ can import every job,
and ``rq cron`` (``csins-adapter scheduler``) can load the cron table."""

from __future__ import annotations

import ast
import importlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq.cron import CronScheduler
from rq.utils import import_attribute

import jobs
from adapter import queue
from jobs import cron, digest, maintenance, worker

JOBS = Path(jobs.__file__).parent
QUEUEING = JOBS.parent / "adapter" / "queue"


@pytest.fixture
def redis(e2e_redis: str) -> Iterator[Redis]:
    connection = Redis.from_url(e2e_redis)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_the_worker_listens_to_every_queue(
    redis: Redis, e2e_redis: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REDIS_URL", e2e_redis)
    monkeypatch.setenv("CSINS_DATA_DIR", str(tmp_path))
    try:
        made = worker.make_worker(name="wiring")
        assert made.queue_names() == list(queue.ALL_QUEUES)
    finally:
        from jobs.context import use_context

        use_context(None)


def _queue_constants() -> set[str]:
    """Every ``csins-*`` queue name written anywhere under ``jobs/``, or in
    ``adapter/queue/`` (where the web process publishes to them)."""
    names: set[str] = set()
    for path in [*JOBS.glob("*.py"), *QUEUEING.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith("csins-")
                and " " not in node.value
            ):
                names.add(node.value)
    return names


def test_every_queue_name_is_one_the_worker_listens_to() -> None:
    assert _queue_constants() == set(queue.ALL_QUEUES)


def test_cron_jobs_go_to_queues_the_worker_listens_to(redis: Redis) -> None:
    scheduler = CronScheduler(connection=redis)
    scheduler.load_config_from_file("jobs.cron")
    registered = scheduler.get_jobs()
    assert len(registered) == 4
    assert {job.queue_name for job in registered} <= set(queue.ALL_QUEUES)
    assert {job.func for job in registered} == {
        maintenance.sweep,
        maintenance.check_deadlines,
        maintenance.checkpoint,
        digest.send_digests,
    }
    assert {job.interval for job in registered} == {
        cron.SWEEP_INTERVAL,
        cron.DEADLINE_CHECK_INTERVAL,
        cron.CHECKPOINT_INTERVAL,
        cron.DIGEST_INTERVAL,
    }


def test_cron_table_loads_again_in_the_same_process(redis: Redis) -> None:
    """``load_config_from_file`` reloads the module: a second scheduler gets 4 jobs, not 8."""
    for _ in range(2):
        scheduler = CronScheduler(connection=redis)
        scheduler.load_config_from_file("jobs.cron")
        assert len(scheduler.get_jobs()) == 4


@pytest.mark.parametrize(
    "name",
    [
        "jobs.deliver.deliver",
        "jobs.maintenance.sweep",
        "jobs.maintenance.check_deadlines",
        "jobs.maintenance.checkpoint",
        "jobs.digest.send_digests",
    ],
)
def test_every_job_function_is_importable_by_rq(name: str) -> None:
    """RQ stores a job's function as a dotted name and imports it in the worker."""
    function = import_attribute(name)
    module_name, _, attribute = name.rpartition(".")
    assert getattr(importlib.import_module(module_name), attribute) is function
    assert f"{function.__module__}.{function.__qualname__}" == name


def test_enqueued_jobs_name_importable_functions(redis: Redis) -> None:
    """What ``enqueue_delivery`` and the cron table put in Redis is what RQ can import."""
    import zlib

    from jobs.scheduler import ServiceCronScheduler

    queue.enqueue_delivery(redis, "00000000-0000-0000-0000-000000000001", "panel")
    scheduler = ServiceCronScheduler(connection=redis)
    scheduler.load_config_from_file("jobs.cron")
    scheduler.enqueue_jobs()
    jobs = [job for queue_name in queue.ALL_QUEUES for job in queue.queue(queue_name, redis).jobs]
    names = [str(job.func_name) for job in jobs]
    # Issue 19: JSON, never pickle, from the API's enqueue and the scheduler's alike.
    for job in jobs:
        data = zlib.decompress(redis.hget(job.key, "data"))
        assert json.loads(data)[0] == job.func_name, data[:40]
    assert sorted(names) == sorted(
        [
            "jobs.deliver.deliver",
            "jobs.maintenance.sweep",
            "jobs.maintenance.check_deadlines",
            "jobs.maintenance.checkpoint",
            "jobs.digest.send_digests",
        ]
    )
    for name in names:
        import_attribute(name)


def test_a_try_under_way_is_never_taken_for_stuck_with_the_shipped_policy() -> None:
    """A delivery 'sending' longer than stuck_delivery_seconds is sent again; a deliver job can
    run for DELIVERY_JOB_TIMEOUT before RQ stops it, so the shipped policy must wait longer than
    that (else a slow try is sent twice), but not much longer (a killed worker's document
    waits that long: it was 15 minutes)."""
    from config.settings import load_settings

    stuck = load_settings(env={}).policy.stuck_delivery_seconds
    assert queue.DELIVERY_JOB_TIMEOUT < stuck <= 2 * queue.DELIVERY_JOB_TIMEOUT


def test_a_periodic_job_is_taken_before_a_backlog_of_deliveries(redis: Redis) -> None:
    """With every worker busy on deliveries to slow addressees, the sweep and the deadline check
    (the alerts before a breach) must not wait behind the whole backlog: a worker free to take
    a job takes the maintenance job first, whatever was queued before it."""
    from rq import SimpleWorker

    deliveries = queue.queue(queue.DELIVERIES, redis)
    backlog = [deliveries.enqueue("builtins.len", "delivery") for _ in range(5)]
    periodic = queue.queue(queue.MAINTENANCE, redis).enqueue("builtins.len", "sweep")
    SimpleWorker(list(queue.ALL_QUEUES), connection=redis, serializer=queue.SERIALIZER).work(
        burst=True, max_jobs=1
    )
    assert periodic.get_status(refresh=True) == "finished"
    assert {job.get_status(refresh=True) for job in backlog} == {"queued"}


def test_a_worker_reports_when_no_scheduler_runs(
    redis: Redis, caplog: pytest.LogCaptureFixture
) -> None:
    """DESIGN.md §2 names web and workers only: a deployment without `csins-adapter scheduler`
    would never sweep or check deadlines, silently. A worker's maintenance says so, once the
    scheduler has been missing for a whole interval (not at a start-up race)."""
    from rq.cron import CronScheduler

    made = worker.ServiceWorker(list(queue.ALL_QUEUES), connection=redis, name="lonely")
    with caplog.at_level("ERROR"):
        made.check_scheduler()
        assert not caplog.records  # perhaps starting a moment after this worker
        made.check_scheduler()
        assert [
            "no csins-adapter scheduler is running" in r.getMessage() for r in caplog.records
        ] == [True]
        caplog.clear()
        CronScheduler(connection=redis).register_birth()
        made.check_scheduler()
        made.check_scheduler()
        assert not caplog.records


def test_adapter_never_imports_jobs() -> None:
    """DESIGN.md §2: ``jobs`` imports ``adapter``, not the reverse; the web process publishes to
    the queues through :mod:`adapter.queue`, which names the jobs by their dotted path."""
    importing: list[str] = []
    for path in (JOBS.parent / "adapter").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            importing += [f"{path}: {name}" for name in names if name.split(".")[0] == "jobs"]
    assert importing == []


def test_a_worker_stops_listening_at_once_when_its_thread_has_read_the_unsubscribe_reply(
    redis: Redis,
) -> None:
    """CI failed on a worker that hung up to a minute after "unsubscribing" on SIGTERM: redis-py
    8's ``stop`` waits for the channel's thread, and RQ's thread waited 60 s for a message when
    it had already read the unsubscribe reply. Ours looks every PUBSUB_WAKE_SECONDS."""
    import threading

    from jobs.defaults import PUBSUB_WAKE_SECONDS

    made = worker.ServiceWorker(list(queue.ALL_QUEUES), connection=redis, name="quitting")
    made.subscribe()
    assert made.pubsub_thread is not None and made.pubsub_thread.sleep_time == PUBSUB_WAKE_SECONDS
    assert made.pubsub is not None
    made.pubsub.unsubscribe()  # the reply the thread reads before the stop flag is cleared
    for _ in range(100):
        if not made.pubsub.subscribed:
            break
        threading.Event().wait(0.05)
    stopping = threading.Thread(target=made.unsubscribe)
    stopping.start()
    stopping.join(timeout=20)  # not a speed check: RQ's thread would hold it for 60 s
    assert not stopping.is_alive()
