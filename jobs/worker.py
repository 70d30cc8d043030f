"""The worker process: RQ's ``SimpleWorker`` on every queue, with RQ's scheduler for retries.

``SimpleWorker`` runs each job in the worker process itself, so the context (database pool,
keyrings, channels) is built once per process rather than once per job; a job that hangs is
still stopped by RQ's job timeout, and a worker killed mid-job is covered by the sweeper.

A worker outlives Redis going away (:mod:`jobs.outages`): RQ's loop would log a traceback and
end, and ``csins-adapter run`` would then stop the whole service. Here the worker stops quietly
instead, waits for Redis, and starts again under a new registration; the job it was running
when Redis went has recorded its outcome in the database, which is the truth (DESIGN.md §2).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import StopRequested
from rq.scheduler import RQScheduler

from adapter import logs
from adapter.queue import ALL_QUEUES, SERIALIZER, connect
from config.settings import Settings, load_settings
from jobs.context import build_context, use_context
from jobs.defaults import MAINTENANCE_INTERVAL, PUBSUB_RETRY_SECONDS, PUBSUB_WAKE_SECONDS
from jobs.outages import REDIS_DOWN, StopAsked, wait_for_redis
from jobs.scheduler import scheduler_running


class RedisLost(StopRequested):
    """Redis went away under the work loop: RQ's loop ends quietly on a ``StopRequested``."""


class ServiceScheduler(RQScheduler):
    """RQ's scheduler of retries (a process the worker forks), ending quietly when Redis goes
    away: the worker starts another once Redis answers again (RQ's would log two tracebacks)."""

    def work(self) -> None:
        try:
            super().work()  # type: ignore[no-untyped-call]
        except REDIS_DOWN as error:
            self.log.warning("RQ scheduler: lost Redis (%s); stopping", type(error).__name__)


class ServiceWorker(SimpleWorker):
    """A ``SimpleWorker`` whose loop ends quietly when Redis goes away, leaving the error in
    :attr:`lost` for :func:`run_worker`, and whose teardown and stop requests need no Redis."""

    lost: BaseException | None = None
    """The Redis error that ended the loop, if one did."""

    death_pending = False
    """Whether this registration is still in Redis, alive: its death could not be recorded."""

    stop_asked = False
    """Whether SIGTERM or SIGINT asked the worker to stop."""

    @contextmanager
    def _losing_redis(self) -> Iterator[None]:
        try:
            yield
        except REDIS_DOWN as error:
            self.lost = error
            raise RedisLost from error

    # The steps of RQ's work loop that talk to Redis (RQ retries only its dequeue by itself).

    def check_for_suspension(self, burst: bool) -> None:
        with self._losing_redis():
            super().check_for_suspension(burst)

    def run_maintenance_tasks(self) -> None:
        with self._losing_redis():
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
            self.check_scheduler()

    schedulerless = 0
    """Maintenance runs in a row that found no cron scheduler running."""

    def check_scheduler(self) -> None:
        """Log an error when no ``csins-adapter scheduler`` has been seen for a maintenance
        interval (one missing check is a start-up race, as when ``run`` starts the workers
        first): without one, nothing sweeps the outbox or checks deadlines (DESIGN.md §2)."""
        self.schedulerless = 0 if scheduler_running(self.connection) else self.schedulerless + 1
        if self.schedulerless >= 2:
            self.log.error(
                "no csins-adapter scheduler is running: nothing sweeps the outbox, checks "
                "deadlines or raises deadline alerts; start one (see docs/deploy.md)"
            )

    def dequeue_job_and_maintain_ttl(self, *args: Any, **kwargs: Any) -> Any:
        with self._losing_redis():
            return super().dequeue_job_and_maintain_ttl(*args, **kwargs)

    def execute_job(self, *args: Any, **kwargs: Any) -> None:
        with self._losing_redis():
            super().execute_job(*args, **kwargs)

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        with self._losing_redis():
            super().heartbeat(*args, **kwargs)

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """RQ's, with :class:`ServiceScheduler` as the scheduler process."""
        if burst:  # no process: RQ enqueues what is due, in this one
            super()._start_scheduler(burst, logging_level, date_format, log_format)
            return
        self.scheduler = ServiceScheduler(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks(auto_start=True)  # type: ignore[no-untyped-call]

    def subscribe(self) -> None:
        """RQ's, but the channel's thread looks every :data:`PUBSUB_WAKE_SECONDS` whether to
        stop (RQ's 60 s): the teardown waits for it (redis-py 8's ``stop`` joins the thread), and
        a worker stopped by SIGTERM hung up to a minute after "unsubscribing" (CI failed on it)."""
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        # RQ's attribute is typed None; the thread is what RQ's own subscribe puts there.
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=PUBSUB_WAKE_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )

    def _pubsub_exception_handler(self, error: Exception, *args: Any) -> None:
        """RQ's, but quiet while Redis is away: the work loop reports that (RQ logged an error
        every 2 s, naming the server, and let a timeout end the thread)."""
        if not isinstance(error, REDIS_DOWN):
            super()._pubsub_exception_handler(error, *args)
            return
        time.sleep(PUBSUB_RETRY_SECONDS)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """RQ's warm stop, which notes the request in Redis; without Redis, stop all the same
        (after the job under way, if there is one)."""
        self.stop_asked = True
        # Only a busy worker notes the request in Redis, after setting the flag that ends its
        # loop once the job is done: without Redis, nothing more is needed.
        with suppress(*REDIS_DOWN):
            super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def record_death(self) -> None:
        """Leave RQ's registry of workers and free the scheduler's locks (a scheduler process
        that died with Redis could not), so that the next worker takes them at once."""
        self.register_death()  # type: ignore[no-untyped-call]
        if self.scheduler is not None:
            self.scheduler.release_locks()  # type: ignore[no-untyped-call]

    def teardown(self) -> None:
        """RQ's teardown, each step whatever Redis answers: the scheduler process is stopped
        and the pubsub thread ended even when the death cannot be recorded."""
        if self.scheduler:
            self.stop_scheduler()  # type: ignore[no-untyped-call]
        try:
            self.record_death()
        except REDIS_DOWN as error:
            self.lost = self.lost or error
            self.death_pending = True
        try:
            self.unsubscribe()  # type: ignore[no-untyped-call]
        except REDIS_DOWN:
            if self.pubsub_thread:
                self.pubsub_thread.stop()


def _new_worker(settings: Settings, name: str | None) -> ServiceWorker:
    return ServiceWorker(
        list(ALL_QUEUES),
        connection=connect(settings),
        name=name,
        maintenance_interval=MAINTENANCE_INTERVAL,
        serializer=SERIALIZER,
    )


def make_worker(name: str | None = None) -> ServiceWorker:
    """A worker on every queue, with this process's context built from the environment."""
    settings = load_settings()
    use_context(build_context(settings))
    return _new_worker(settings, name)


def run_worker(*, burst: bool = False, name: str | None = None) -> bool:
    """Work until stopped (or, with ``burst``, until the queues are empty); returns whether any
    job ran. When Redis is down or goes away, wait for it and work again (see the module
    docstring); in burst mode the Redis error is raised instead.

    Every start registers anew with RQ. A registration whose death Redis could not record (it
    was down; it may come back from its append-only file with that registration alive) has its
    death recorded first, when Redis answers again: RQ refuses a second live worker of the
    same ``name``.
    """
    settings = load_settings()
    level = settings.log_level
    logs.configure(level)  # before RQ's own set-up, which then adds no handler of its own
    use_context(build_context(settings))
    connection = connect(settings)
    worked, unrecorded = False, None
    while True:
        worker = None
        try:
            if unrecorded is not None:
                unrecorded.record_death()
                unrecorded = None
            worker = _new_worker(settings, name)
            worked = worker.work(burst=burst, with_scheduler=True, logging_level=level) or worked
            error = worker.lost
        except REDIS_DOWN as raised:  # outside RQ's loop: registering, starting its scheduler
            error = raised
            if worker is not None and worker.birth_date is not None:
                worker.teardown()
        except StopAsked:  # SIGTERM or SIGINT while starting again, before RQ's handlers
            if worker is not None and worker.birth_date is not None:
                worker.teardown()
            return worked
        if error is None or (worker is not None and worker.stop_asked):
            return worked
        if burst:
            raise error
        if worker is not None and worker.death_pending:
            unrecorded = worker
        process = f"worker {worker.name}" if worker is not None else "worker"
        if not wait_for_redis(connection, process, error):
            return worked
