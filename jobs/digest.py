"""The daily digest job (issue 18), run by RQ's cron (:mod:`jobs.cron`) every few minutes.

RQ's cron knows intervals and UTC cron lines, not Europe/London, and a scheduler that was down
at the chosen minute would skip the day. So the job runs often and does nothing until the
configured time has passed in London; from then on, each LA's digest of the day is sent by
whichever run claims it first in the database (:mod:`adapter.reminders.runs`): once a day, even
across restarts and several schedulers, and still sent after a scheduler outage that morning.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from adapter.clock import LONDON, utcnow
from adapter.reminders import digest, facts, runs
from adapter.reminders.mailer import DigestSettings, load_digest_settings, send_message
from jobs.context import WorkerContext, context

log = logging.getLogger(__name__)


def send_digests() -> int:
    """Send each LA's digest of today if it is time and no run has; returns how many were sent."""
    ctx = context()
    settings = load_digest_settings(ctx.settings)
    now = utcnow()
    local = now.astimezone(LONDON)
    if not settings.enabled or local.time() < settings.send_at:
        return 0
    return sum(
        _send_one(ctx, settings, la_code, local.date(), now) for la_code in settings.mailboxes
    )


def _send_one(
    ctx: WorkerContext, settings: DigestSettings, la_code: str, day: dt.date, now: dt.datetime
) -> bool:
    """One LA's digest, if this run claims the day: sent, skipped as empty, or released."""
    database = ctx.database
    if not runs.claim(database, la_code, day, now):
        return False
    names = facts.addressee_names(ctx.settings.addressees)
    with database.session_scope() as session:
        found = digest.gather(session, la_code, now, ctx.settings.policy, names)
    if not found.items and not settings.send_when_empty:
        runs.finish(database, la_code, day, now, outcome=runs.NOTHING, items=0)
        return False
    recipients = settings.mailboxes[la_code]
    message = digest.compose(found, settings, recipients, now)
    try:
        message_id = send_message(settings, message)
    except (smtplib.SMTPException, OSError) as error:
        runs.release(database, la_code, day, type(error).__name__)
        log.error("digest of LA %s not sent (the next run tries again): %s", la_code, error)
        return False
    runs.finish(
        database, la_code, day, now, outcome=runs.SENT, items=found.items, message_id=message_id
    )
    log.info(
        "digest of LA %s sent to %d mailboxes (%d items)", la_code, len(recipients), found.items
    )
    return True
