"""``deliver(delivery_id)``: send one outbox row to its addressee and record the outcome.

Three short steps, each its own transaction so that no lock is held while the addressee is
being called: start the attempt (the row says ``sending``), send, record. A worker killed between
them leaves the row ``sending``; the sweeper sends it again once it is stuck, with the same
``webhook-id``, so the addressee sees a repeat and the receipt is still issued once. A document
that cannot be sent at all (its channel misconfigured) fails at once, with an alert. The channel
is the one the document's route names (``config/addressees.yaml``); a ``csins`` route is not
sent but handed to a person (:mod:`adapter.service.assisted`).

A database connection lost under ``start`` or ``record`` (a backend terminated, a failover) is
not the end of the job: the transaction is tried again in a fresh session, on a new connection
(:data:`TRANSACTION_TRIES`). Above all for ``record``, or an addressee that has acknowledged
would wait ``stuck_delivery_seconds`` for its receipt and be sent the document again. Trying
again cannot record twice, even when the lost connection had committed the first try (only
its acknowledgement was lost): the try is then recorded already, and what it recorded stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from adapter.clock import utcnow
from adapter.delivery import DeliveryError, Outcome
from adapter.delivery.errors import UnreadablePayload
from adapter.service import assisted, delivering
from adapter.store.models import DeliveryAttemptRow, DeliveryRow
from jobs.context import WorkerContext, context
from jobs.defaults import TRANSACTION_RETRY_WAIT_SECONDS, TRANSACTION_TRIES

log = logging.getLogger(__name__)

T = TypeVar("T")


def deliver(delivery_id: str) -> str:
    """Send one delivery; returns its status afterwards (RQ keeps it as the job's result).

    A job that fails says so itself, by the error's class alone (its message may quote a
    record): RQ's own report needs Redis, and a job failing while Redis is away went unlogged.
    """
    try:
        return _deliver(delivery_id)
    except Exception as error:
        log.error(
            "delivery %s: the job failed (%s); the sweeper will send it again",
            delivery_id,
            type(error).__name__,
        )
        raise


def _deliver(delivery_id: str) -> str:
    ctx = context()

    def start(session: Session, _again: bool) -> delivering.Started | None:
        return delivering.start(session, ctx.database.keyring, ctx.settings.policy, delivery_id)

    started = _transaction(ctx, "starting", delivery_id, start)
    if started is None:
        return "nothing to do"
    channel = ctx.routes.channel_of(started.document, started.addressee)
    if channel == assisted.CSINS:
        # A person delivers: the try becomes a task on the admin pages (DESIGN.md §6).
        return _transaction(
            ctx,
            "handing over",
            delivery_id,
            lambda session, _again: assisted.hand_over(session, started, utcnow()),
        )
    try:
        if started.message is None:
            raise UnreadablePayload(started.unreadable or "the stored payload cannot be read")
        outcome = ctx.channel(started.addressee, channel).send(started.message)
    except DeliveryError as error:
        # A channel misconfigured (a credential's env var unset), a document it cannot carry
        # or cannot read: retrying cannot help, so the delivery fails now, alerted and visible,
        # to be retried by hand once fixed (§6), rather than looping through the sweeper.
        log.error("delivery %s cannot be sent: %s", delivery_id, type(error).__name__)
        outcome = Outcome.not_sent(channel, str(error), utcnow())
    recorded = _transaction(ctx, "recording", delivery_id, _recording(ctx, started, outcome))
    return recorded.status  # a retry is on RQ's scheduler: the recording published it


def _recording(
    ctx: WorkerContext, started: delivering.Started, outcome: Outcome
) -> Callable[[Session, bool], delivering.Recorded]:
    """The ``record`` step: on a second try, what the first recorded if its commit went through
    although its connection was lost before saying so.

    An acknowledgement or a permanent failure recorded already would be found by ``record``
    itself (the delivery is finished: "the first answer stands"), but a transient failure
    leaves the delivery open, and recording it again would alert its risk twice. Only this job
    records this try (another worker taking the delivery over starts a try of its own), so the
    try's outcome says whether it was recorded.
    """

    def record(session: Session, again: bool) -> delivering.Recorded:
        if again:
            attempt = session.get(DeliveryAttemptRow, (started.delivery_id, started.attempt))
            if attempt is not None and attempt.outcome is not None:
                delivery = session.get_one(DeliveryRow, started.delivery_id)
                retry_at = delivery.next_attempt_at if delivery.status == "retrying" else None
                if retry_at is not None:  # its publication may have gone with the connection
                    delivering.publish_retry(session, delivery, retry_at)
                return delivering.Recorded(delivery.status, retry_at)
        return delivering.record(
            session, ctx.database.keyring, ctx.settings, ctx.signer, started, outcome, utcnow()
        )

    return record


def _transaction(
    ctx: WorkerContext, step: str, delivery_id: str, work: Callable[[Session, bool], T]
) -> T:
    """``work(session, again)`` in a transaction of its own; tried again, in a new one, when the
    database connection was lost (``again`` is then true). Any other error is raised at once."""

    def lost(error: BaseException) -> bool:
        # A disconnect SQLAlchemy recognised (psycopg's AdminShutdown after
        # pg_terminate_backend, a dropped socket), or PostgreSQL not answering yet (a failover:
        # the new connection is refused). SQLite's OperationalError is a lock or the disk.
        return isinstance(error, DBAPIError) and (
            error.connection_invalidated
            or (isinstance(error, OperationalError) and ctx.database.dialect == "postgresql")
        )

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "delivery %s: database connection lost while %s (%s); trying again",
            delivery_id,
            step,
            type(error).__name__,
        )

    tries = 0

    def one_try() -> T:
        nonlocal tries
        tries += 1
        with ctx.database.session_scope() as session:
            return work(session, tries > 1)

    retrying = Retrying(
        retry=retry_if_exception(lost),
        stop=stop_after_attempt(TRANSACTION_TRIES),
        wait=wait_exponential(multiplier=TRANSACTION_RETRY_WAIT_SECONDS)
        + wait_random(0, TRANSACTION_RETRY_WAIT_SECONDS),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(one_try)
