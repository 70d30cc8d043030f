"""One digest per LA per London day, however many schedulers run and however often they restart.

The claim is a row of ``digest_runs``, unique on ``(la_code, day)``: the job that inserts it
sends the day's digest, and every other finds it. Redis plays no part, so a flushed Redis or a
second scheduler cannot cause a second e-mail. A claim whose job died before sending (its
``sent_at`` still empty) may be taken over once :data:`CLAIM_EXPIRES` has passed, so a crash
delays the digest rather than losing it; a job that failed to send releases its claim at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapter.store.database import Database
from adapter.store.models import DigestRunRow

CLAIM_EXPIRES = dt.timedelta(minutes=10)
"""How long a claim holds without a digest sent (a send takes seconds; its timeout is 30 s)."""

SENT = "sent"
NOTHING = "nothing"
"""Outcomes of a day: the digest was sent, or there was nothing to say (and it was not wanted)."""


def claim(database: Database, la_code: str, day: dt.date, now: dt.datetime) -> bool:
    """Whether this job is the one to send ``la_code``'s digest of ``day``; commits at once."""
    try:
        with database.session_scope() as session:
            session.add(DigestRunRow(la_code=la_code, day=day, claimed_at=now, items=0))
        return True
    except IntegrityError:
        pass  # someone claimed the day first: take it over only if their claim has expired
    with database.session_scope() as session:
        taken = session.execute(
            update(DigestRunRow)
            .where(
                DigestRunRow.la_code == la_code,
                DigestRunRow.day == day,
                DigestRunRow.sent_at.is_(None),
                or_(
                    DigestRunRow.claimed_at.is_(None),
                    DigestRunRow.claimed_at <= now - CLAIM_EXPIRES,
                ),
            )
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)


def finish(
    database: Database,
    la_code: str,
    day: dt.date,
    now: dt.datetime,
    *,
    outcome: str,
    items: int,
    message_id: str | None = None,
) -> None:
    """Record the day as done for the LA: no later run sends it again."""
    with database.session_scope() as session:
        row = _row(session, la_code, day)
        row.sent_at, row.outcome, row.items = now, outcome, items
        row.message_id, row.last_error = message_id, None


def release(database: Database, la_code: str, day: dt.date, error: str) -> None:
    """Give the claim up after a failed send (the next run tries again), saying why."""
    with database.session_scope() as session:
        row = _row(session, la_code, day)
        row.claimed_at, row.last_error = None, error[:200]


def run_of(session: Session, la_code: str, day: dt.date) -> DigestRunRow | None:
    """The day's row for the LA, if any run claimed it."""
    return session.scalars(
        select(DigestRunRow).where(DigestRunRow.la_code == la_code, DigestRunRow.day == day)
    ).one_or_none()


def _row(session: Session, la_code: str, day: dt.date) -> DigestRunRow:
    row = run_of(session, la_code, day)
    if row is None:  # pragma: no cover - only the claimant calls, after its claim
        raise LookupError(f"no digest claim for LA {la_code} on {day.isoformat()}")
    return row
