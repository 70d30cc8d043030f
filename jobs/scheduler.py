"""The scheduler process: RQ's cron scheduler running the cron table of :mod:`jobs.cron`.

It outlives Redis going away (:mod:`jobs.outages`): RQ's scheduler ends on the first Redis
error, and ``csins-adapter run`` would then stop the whole service. Here it waits for Redis and
starts again with the same schedule, so what fell due meanwhile (a sweep, above all, which
re-enqueues whatever a Redis that came back empty lost) is enqueued as soon as Redis answers.
"""

from __future__ import annotations

from redis.client import Pipeline
from rq.cron import CronScheduler

from adapter import logs
from adapter.queueing import scheduler_running
from config.settings import load_settings
from jobs.outages import REDIS_DOWN, StopAsked, wait_for_redis
from jobs.queues import connect

__all__ = ["CRON_TABLE", "ServiceCronScheduler", "run_scheduler", "scheduler_running"]

CRON_TABLE = "jobs.cron"
"""The module whose ``rq.cron.register`` calls make the schedule."""


class ServiceCronScheduler(CronScheduler):
    """RQ's cron scheduler, whose stop does not fail when Redis is gone."""

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
