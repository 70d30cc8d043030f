"""What the long-running processes (``worker``, ``scheduler``) do when Redis goes away.

Redis only carries ids (DESIGN.md §2): while it is down nothing is lost, and nothing can be
done. So a process that loses it logs one warning, waits for it to answer again (backing off
from :data:`FIRST_WAIT_SECONDS` to :data:`MAX_WAIT_SECONDS`) and starts working again; SIGTERM
or SIGINT while it waits stops it as usual. What is logged is the error's class alone: a Redis
error's message names the server, and the URL it came from may hold a password.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from jobs.defaults import FIRST_WAIT_SECONDS, MAX_WAIT_SECONDS

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
"""What redis-py raises when the server cannot be reached or does not answer in time."""

log = logging.getLogger(__name__)


class StopAsked(Exception):
    """SIGTERM or SIGINT arrived while the process was waiting for Redis."""


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise StopAsked


def stop_on_signals() -> None:
    """From now on SIGTERM and SIGINT raise :class:`StopAsked`, until RQ installs its own
    handlers again: those of a worker or scheduler that lost Redis may need Redis to stop."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)


def wait_for_redis(connection: Redis, process: str, error: BaseException) -> bool:
    """Wait until ``connection``'s server answers PING again; False when SIGTERM or SIGINT came
    meanwhile (the caller then stops). ``process`` names the waiting process in the log."""
    stop_on_signals()
    wait = FIRST_WAIT_SECONDS
    log.warning(
        "%s: lost Redis (%s); starting again once it answers", process, type(error).__name__
    )
    try:
        while True:
            time.sleep(wait)
            try:
                connection.ping()
            except REDIS_DOWN as still:
                wait = min(2 * wait, MAX_WAIT_SECONDS)
                log.warning(
                    "%s: Redis does not answer yet (%s); next look in %.0f s",
                    process,
                    type(still).__name__,
                    wait,
                )
                continue
            log.info("%s: Redis answers again; starting again", process)
            return True
    except StopAsked:
        log.info("%s: stop requested while waiting for Redis", process)
        return False
