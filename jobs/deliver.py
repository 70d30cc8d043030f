"""``deliver(delivery_id)``: send one outbox row to its addressee and record the outcome.

Three short steps, each its own transaction so that no lock is held while the addressee is
being called: start the attempt (the row says ``sending``), send, record. A worker killed between
them leaves the row ``sending``; the sweeper sends it again once it is stuck, with the same
``webhook-id``, so the addressee sees a repeat and the receipt is still issued once. A document
that cannot be sent at all (its channel misconfigured) fails at once, with an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from redis.exceptions import RedisError

from adapter.delivery import DeliveryError, Outcome
from adapter.delivery.errors import UnreadablePayload
from adapter.service import delivering
from adapter.service.clock import utcnow
from jobs.context import context
from jobs.queues import connect, enqueue_deliveries, enqueue_delivery

log = logging.getLogger(__name__)


def deliver(delivery_id: str) -> str:
    """Send one delivery; returns its status afterwards (RQ keeps it as the job's result)."""
    ctx = context()
    with ctx.database.session_scope() as session:
        started = delivering.start(session, ctx.database.keyring, ctx.settings.policy, delivery_id)
    if started is None:
        return "nothing to do"
    entry = ctx.settings.addressees.get(started.addressee)
    channel = str(entry.get("channel", "-")) if isinstance(entry, Mapping) else "-"
    try:
        if started.message is None:
            raise UnreadablePayload(started.unreadable or "the stored payload cannot be read")
        outcome = ctx.channel(started.addressee).send(started.message)
    except DeliveryError as error:
        # A channel misconfigured (a credential's env var unset), a document it cannot carry
        # or cannot read: retrying cannot help, so the delivery fails now, alerted and visible,
        # to be retried by hand once fixed (§6), rather than looping through the sweeper.
        log.error("delivery %s cannot be sent: %s", delivery_id, type(error).__name__)
        outcome = Outcome.not_sent(channel, str(error), utcnow())
    with ctx.database.session_scope() as session:
        recorded = delivering.record(
            session, ctx.database.keyring, ctx.settings, ctx.signer, started, outcome, utcnow()
        )
    if recorded.retry_at is not None:
        try:
            enqueue_delivery(
                connect(ctx.settings),
                delivery_id,
                started.addressee,
                attempts=started.attempt,
                at=recorded.retry_at,
            )
        except RedisError as error:  # the sweeper will find it when it is due
            log.warning("could not schedule retry of %s: %s", delivery_id, type(error).__name__)
    # Best effort, as after an API commit: what Redis does not take, the sweeper enqueues.
    enqueue_deliveries(ctx.settings, recorded.queued, new=True)
    return recorded.status
