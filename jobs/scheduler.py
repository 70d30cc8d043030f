"""The scheduler process: RQ's cron scheduler running the cron table of :mod:`jobs.cron`.

It outlives Redis going away (:mod:`jobs.outages`): RQ's scheduler ends on the first Redis
error, and ``csins-adapter run`` would then stop the whole service. Here it waits for Redis and
starts again with the same schedule, so what fell due meanwhile (a sweep, above all, which
re-enqueues whatever a Redis that came back empty lost) is enqueued as soon as Redis answers.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL
from rq.job import Job

from adapter import logs
from adapter.queue import connect, queue, scheduler_running
from config.settings import load_settings
from jobs.outages import REDIS_DOWN, StopAsked, wait_for_redis

__all__ = ["CRON_TABLE", "ServiceCronScheduler", "run_scheduler", "scheduler_running"]

CRON_TABLE = "jobs.cron"
"""The module whose ``rq.cron.register`` calls make the schedule."""


class JsonCronJob(CronJob):
    """A cron job enqueued with the service's JSON serializer (RQ's cron always pickles), as
    the workers read it (:data:`adapter.queue.SERIALIZER`). RQ's ``CronJob.enqueue``, with it."""

    def enqueue(self, connection: Redis) -> Job:
        if not self.func:
            raise ValueError("a cron job without a function cannot be enqueued")
        target = queue(self.queue_name, connection)
        with connection.pipeline() as pipeline:
            job = target.enqueue(
                self.func, args=self.args, kwargs=self.kwargs, **self.job_options, pipeline=pipeline
            )
            assert job.enqueued_at is not None
            stamp = job.enqueued_at.timestamp()
            pipeline.zadd(self.job_history_key, {job.id: stamp})
            pipeline.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipeline.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipeline, enqueue_timestamp=stamp)
            pipeline.execute()
        # RQ's own line (the e2e tests and operators read it), under RQ's cron logger.
        logging.getLogger("rq.cron").info(
            f"Enqueued job {str(job.func_name).rsplit('.', 1)[-1]} to queue {self.queue_name}"
        )
        return job


class ServiceCronScheduler(CronScheduler):
    """RQ's cron scheduler, enqueueing with the service's serializer, whose stop does not fail
    when Redis is gone."""

    def register(self, *args: Any, **kwargs: Any) -> CronJob:
        cron_job = super().register(*args, **kwargs)
        cron_job.__class__ = JsonCronJob  # the same job, enqueued as JSON
        return cron_job

    def register_death(self, pipeline: Pipeline | None = None) -> None:
        """Leave RQ's registry of schedulers, if Redis answers: the entry expires without it.

        RQ calls this as its loop ends, on a stop as on an error: a Redis error raised here
        would hide which of the two it was."""
        try:
            super().register_death(pipeline)
        except REDIS_DOWN as error:
            self.log.warning(
                "CronScheduler %s: could not leave the registry (%s)",
                self.name,
                type(error).__name__,
            )


def run_scheduler() -> None:
    """Enqueue the cron table's jobs when due until SIGTERM or SIGINT; wait out Redis outages."""
    settings = load_settings()
    logs.configure(settings.log_level)
    connection = connect(settings)
    cron = ServiceCronScheduler(connection=connection, logging_level=settings.log_level)
    cron.load_config_from_file(CRON_TABLE)
    while True:
        try:
            cron.start()  # type: ignore[no-untyped-call]
            return  # stopped on request: RQ's start() returns after SIGTERM or SIGINT
        except REDIS_DOWN as error:
            # Started again with the same instance: its name (the entry the old start left in
            # RQ's registry is taken over, not duplicated) and its jobs' next times.
            if not wait_for_redis(connection, f"scheduler {cron.name}", error):
                return
        except StopAsked:  # SIGTERM or SIGINT while starting again, before RQ's handlers
            return
