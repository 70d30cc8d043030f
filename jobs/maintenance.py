"""The periodic jobs (run by ``rq cron``, see :mod:`jobs.cron`): sweep, check deadlines, checkpoint.

- :func:`sweep` re-enqueues every delivery that is due and has no live job (Redis flushed, the
  web process died after committing, a worker killed mid-send): losing Redis loses no work.
- :func:`check_deadlines` records each open deadline's status and alerts when one becomes
  ``due_soon`` or ``overdue``.
- :func:`checkpoint` signs the receipt log's head, so a later rewrite of its tail shows.
"""

from __future__ import annotations

import datetime as dt
import logging

from rq.job import Job, JobStatus
from sqlalchemy import select

from adapter import alerts
from adapter.receipts.log import record_checkpoint
from adapter.service.clock import utcnow
from adapter.service.planning import live_status
from adapter.store import outbox
from adapter.store.models import Obligation
from jobs.context import context
from jobs.queues import connect, delivery_job_id, enqueue_delivery

SWEEP_BATCH = 500
"""Most deliveries one sweep re-enqueues (the next sweep takes the rest)."""

OPEN_STATUSES = ("pending", "due_soon", "overdue")
_LIVE_JOB = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED}
_NEWLY = {"due_soon": alerts.DEADLINE_AT_RISK, "overdue": alerts.DEADLINE_OVERDUE}

log = logging.getLogger(__name__)


def sweep() -> int:
    """Enqueue every due delivery whose job is missing or dead; returns how many were enqueued."""
    ctx = context()
    redis = connect(ctx.settings)
    stuck_after = dt.timedelta(seconds=ctx.settings.policy.stuck_delivery_seconds)
    with ctx.database.session_scope() as session:
        due = [
            (d.id, d.addressee, d.attempts)
            for d in outbox.deliveries_due(session, limit=SWEEP_BATCH, stuck_after=stuck_after)
        ]
    enqueued = 0
    for delivery_id, addressee, attempts in due:
        job_id = delivery_job_id(delivery_id, attempts)
        job = Job.fetch(job_id, connection=redis) if Job.exists(job_id, connection=redis) else None
        if job is not None and job.get_status(refresh=False) in _LIVE_JOB:
            continue
        if job is not None:
            job.delete()  # finished or crashed without moving the row on: try again
        enqueued += enqueue_delivery(redis, delivery_id, addressee, attempts=attempts)
    if enqueued:
        log.info("sweep re-enqueued %d deliveries", enqueued)
    return enqueued


def check_deadlines() -> int:
    """Store every open deadline's status now; alert on each that became due soon or overdue."""
    ctx = context()
    now, policy, changed = utcnow(), ctx.settings.policy, 0
    with ctx.database.session_scope() as session:
        for row in session.scalars(select(Obligation).where(Obligation.status.in_(OPEN_STATUSES))):
            status = live_status(row, now, policy)
            if status == row.status:
                continue
            row.status, row.updated_at, changed = status, now, changed + 1
            if status in _NEWLY:
                alerts.raise_alert(
                    session,
                    ctx.settings,
                    _NEWLY[status],
                    la_code=row.la_code,
                    object_type="obligation",
                    object_id=row.id,
                    detail={
                        "document": row.document,
                        "addressee": row.addressee,
                        "due": row.due.isoformat(),
                        "incident_id": row.incident_id,
                    },
                )
    return changed


def checkpoint() -> int | None:
    """Sign the receipt log's head; returns the size it covers (None while the log is empty)."""
    ctx = context()
    with ctx.database.session_scope() as session:
        row = record_checkpoint(session, ctx.signer)
        return None if row is None else row.size
