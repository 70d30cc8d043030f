"""The periodic jobs (run by ``rq cron``, see :mod:`jobs.cron`): sweep, check deadlines, checkpoint.

- :func:`sweep` re-enqueues every delivery that is due and has no live job (Redis flushed, the
  web process died after committing, a worker killed mid-send), and every import waiting with no
  job or whose worker died mid-import: losing Redis or a worker loses no work.
- :func:`check_deadlines` records each open deadline's status and alerts once when one is
  ``due_soon`` or ``overdue``, whoever stored that status; an incident whose publication limit
  has passed unpublished is re-planned, so that its delay notice is owed (§8).
- :func:`checkpoint` signs the receipt log's head and appends it to a file outside the
  database, so a later rewrite or truncation of its tail shows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

from redis import Redis
from rq.job import JobStatus
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from adapter.clock import utcnow
from adapter.errors import CsinsError
from adapter.queue import (
    LIVE_JOB_STATUSES,
    connect,
    delivery_job_id,
    enqueue_delivery,
    enqueue_import,
    fetch_job,
    reclaim_addressee_slots,
)
from adapter.receipts.witness import checkpoint_and_witness, witness_path
from adapter.service import alerts
from adapter.service.replanning import live_status, replan
from adapter.store import assisted, outbox
from adapter.store.import_runs import imports_to_resume
from adapter.store.models import DeliveryRow, IncidentRow, ObligationRow
from jobs.context import WorkerContext, context
from jobs.defaults import SCHEDULER_GRACE, SLOT_RECLAIM_GRACE_SECONDS, SWEEP_BATCH, SWEEP_BATCHES

OPEN_STATUSES = ("pending", "due_soon", "overdue")
_NEWLY = {"due_soon": alerts.DEADLINE_AT_RISK, "overdue": alerts.DEADLINE_OVERDUE}

log = logging.getLogger(__name__)


def sweep() -> int:
    """Enqueue every due delivery whose job is missing or dead; returns how many were enqueued.

    First the per-addressee slots held by jobs that no worker runs, and seen so by sweeps
    :data:`~jobs.defaults.SLOT_RECLAIM_GRACE_SECONDS` apart, are freed
    (:func:`adapter.queue.reclaim_addressee_slots`): their deliveries are then enqueued again here.

    A job is dead when it finished or failed without moving the row on, or when it is a retry
    still waiting for a scheduler that is gone (:data:`SCHEDULER_GRACE`). A delivery stuck
    ``sending`` (its worker killed) needs no check: its next try has a new job id.
    """
    ctx = context()
    redis = connect(ctx.settings)
    reclaim_addressee_slots(redis, SLOT_RECLAIM_GRACE_SECONDS)
    now = utcnow()
    stuck_after = dt.timedelta(seconds=ctx.settings.policy.stuck_delivery_seconds)
    enqueued = 0
    for delivery_id, addressee, attempts, status, next_attempt_at in _due(ctx, now, stuck_after):
        job = fetch_job(redis, delivery_job_id(delivery_id, attempts))
        if job is not None:
            stalled = (
                job.get_status(refresh=False) == JobStatus.SCHEDULED
                and status == "retrying"
                and next_attempt_at is not None
                and next_attempt_at <= now - SCHEDULER_GRACE
            )
            if stalled:
                job.delete()
            elif job.get_status(refresh=False) in LIVE_JOB_STATUSES:
                continue
        enqueued += enqueue_delivery(redis, delivery_id, addressee, attempts=attempts)
    if enqueued:
        log.info("sweep re-enqueued %d deliveries", enqueued)
    return enqueued + _resume_imports(ctx, redis, now)


def _resume_imports(ctx: WorkerContext, redis: Redis, now: dt.datetime) -> int:
    """Enqueue each import that waits with no live job (Redis lost it), or whose run has not
    written for ``stuck_import_seconds`` (its worker died): the next run takes it over where
    the last commit ended. Returns how many were enqueued."""
    stale_before = now - dt.timedelta(seconds=ctx.settings.policy.stuck_import_seconds)
    with ctx.database.session_scope() as session:
        waiting = imports_to_resume(session, stale_before=stale_before)
    enqueued = 0
    for import_id, attempts, status in waiting:
        if status == "queued":  # its first run's job, unless Redis lost it
            enqueued += enqueue_import(redis, import_id, attempts)
            continue
        # A stale run's job may still look live (a killed worker's job stays "started" until
        # RQ's housekeeping notices): the next run is a job of its own.
        enqueued += enqueue_import(redis, import_id, attempts + 1)
    if enqueued:
        log.info("sweep enqueued %d imports", enqueued)
    return enqueued


def _due(
    ctx: WorkerContext, now: dt.datetime, stuck_after: dt.timedelta
) -> Iterator[tuple[str, str, int, str, dt.datetime | None]]:
    """What the sweep needs of each due delivery, read a batch at a time (one short
    transaction each, none held while Redis is asked)."""
    resume_after = None
    for _ in range(SWEEP_BATCHES):
        with ctx.database.session_scope() as session:
            batch = [
                (d.id, d.addressee, d.attempts, d.status, d.next_attempt_at)
                for d in outbox.deliveries_due(
                    session,
                    now=now,
                    limit=SWEEP_BATCH,
                    stuck_after=stuck_after,
                    resume_after=resume_after,
                )
            ]
        yield from batch
        if len(batch) < SWEEP_BATCH or batch[-1][4] is None:
            return
        resume_after = (batch[-1][4], batch[-1][0])


def check_deadlines() -> int:
    """Store every open deadline's status now; alert on each newly due soon or overdue.

    Alerts follow ``alerted_status``, not a change of the stored status: a plan stores an
    obligation already at risk (an incident notified late) without alerting, and this run then
    alerts it. Rows another transaction holds (a re-plan, another run) are skipped, never
    waited for, so this job cannot deadlock with a re-plan that locks the incident first; the
    next run takes them.
    """
    ctx = context()
    now, policy, changed = utcnow(), ctx.settings.policy, 0
    with ctx.database.session_scope() as session:
        open_obligations = (
            select(ObligationRow)
            .where(ObligationRow.status.in_(OPEN_STATUSES))
            .order_by(ObligationRow.id)
            .with_for_update(skip_locked=True)
        )
        for row in session.scalars(open_obligations):
            status = live_status(row, now, policy)
            if status != row.status:
                row.status, row.updated_at, changed = status, now, changed + 1
            if status not in _NEWLY:
                row.alerted_status = None  # a re-plan moved it: alert again if it comes back
            elif row.alerted_status != status:
                row.alerted_status = status
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
                        **_open_submission(session, row),
                    },
                )
    _owe_delay_notices(ctx, now)
    return changed


def _open_submission(session: Session, obligation: ObligationRow) -> dict[str, str]:
    """``{"submission_to_make": delivery id}`` when what the obligation waits for is a person's
    submission on the online service (an open ``csins`` task, DESIGN.md §6): the alert names it."""
    found = session.scalars(
        select(DeliveryRow.id).where(
            DeliveryRow.obligation_id == obligation.id,
            DeliveryRow.channel == assisted.CSINS,
            DeliveryRow.status.not_in(assisted.FINISHED),
        )
    ).first()
    return {"submission_to_make": found} if found else {}


def _owe_delay_notices(ctx: WorkerContext, now: dt.datetime) -> None:
    """Re-plan each incident whose publication is overdue and owes no delay notice yet: time
    alone makes it owed once the limit has passed unpublished (§8), and nothing else would
    re-plan the incident. One short transaction each, after the check's own, locking the
    incident first as every re-plan does."""
    notice = aliased(ObligationRow)
    with ctx.database.session_scope() as session:
        late = session.scalars(
            select(ObligationRow.incident_id)
            .where(
                ObligationRow.document == "publication",
                ObligationRow.status == "overdue",
                ~select(notice.id)
                .where(
                    notice.incident_id == ObligationRow.incident_id,
                    notice.document == "publication_delay_notice",
                )
                .exists(),
            )
            .distinct()
        ).all()
    for incident_id in late:
        try:
            with ctx.database.session_scope() as session:
                incident = session.scalars(
                    select(IncidentRow)
                    .where(IncidentRow.id == incident_id)
                    .with_for_update(key_share=True)
                    .execution_options(populate_existing=True)
                ).one()
                replan(session, ctx.database.keyring, ctx.settings.policy, incident, now)
        except CsinsError as error:  # one incident's plan must not stop the others'
            log.error("could not re-plan incident %s: %s", incident_id, type(error).__name__)


def checkpoint() -> int | None:
    """Sign the receipt log's head, store the checkpoint and append it to the witness file
    outside the database (:mod:`adapter.receipts.witness`); returns the size it covers (None
    while the log is empty)."""
    ctx = context()
    signed = checkpoint_and_witness(ctx.database, ctx.signer, witness_path(ctx.settings))
    return None if signed is None else int(signed.content["size"])
