"""The transactional outbox (DESIGN.md §2, §6): one row per document per addressee.

:func:`enqueue_delivery` is called in the same transaction as the incident change that caused
it, so a committed change always has its deliveries and a rolled-back one has none; the row's
job is published once the transaction commits (:mod:`adapter.store.publishing`). RQ carries
only the delivery id; the worker moves a row through ``queued → sending → acknowledged``, or
``retrying`` after a transient failure and ``failed`` after a permanent one, recording every try
in ``delivery_attempts``. The sweeper finds rows whose job went missing with :func:`deliveries_due`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from typing import Literal, NamedTuple

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from adapter.clock import utcnow
from adapter.store.crypto import DecryptionError, Keyring
from adapter.store.models import DeliveryAttemptRow, DeliveryRow, IncidentRow, ObligationRow
from adapter.store.pagination import (
    Keyset,
    Page,
    after,
    keyset_page,
    time_and_id,
)
from adapter.store.publishing import Publication, publish_after_commit
from adapter.store.scope import ALL_LAS, scoped
from adapter.store.sealing import delivery_aad

STUCK_SENDING_AFTER = dt.timedelta(minutes=15)
"""A delivery ``sending`` for longer than this (a killed worker) is due again."""

EARLY_START_TOLERANCE = dt.timedelta(seconds=2)
"""How early a try may start before its ``next_attempt_at`` (clocks of machines differ a little).
A job that comes earlier (a duplicate, a stale one) does nothing: the retry schedule and an
addressee's ``Retry-After`` hold whatever jobs are in the queue."""

MAX_DETAIL_CHARS = 1000
"""Longest error, response or attempt detail kept (characters); the rest is cut."""

AttemptOutcome = Literal["acknowledged", "transient", "permanent"]


def enqueue_delivery(
    session: Session,
    keyring: Keyring,
    *,
    incident: IncidentRow,
    document: str,
    addressee: str,
    payload: bytes,
    version: int | None = None,
    obligation: ObligationRow | None = None,
    media_type: str = "application/json",
) -> DeliveryRow:
    """Add an outbox row sending exactly ``payload`` (stored encrypted, hashed in the clear),
    to be written with the obligation it meets by the transaction's next flush."""
    delivery = DeliveryRow(
        id=str(uuid.uuid4()),
        incident_id=incident.id,
        la_code=incident.la_code,
        obligation=obligation,
        document=document,
        addressee=addressee,
        version=incident.current_version if version is None else version,
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
        media_type=media_type,
        payload_sha256=hashlib.sha256(payload).hexdigest(),
    )
    delivery.payload = keyring.encrypt(payload, delivery_aad(delivery.id, delivery.incident_id))
    session.add(delivery)
    publish_after_commit(session, Publication("delivery", delivery.id, addressee, new=True))
    return delivery


def delivery_payload(keyring: Keyring, delivery: DeliveryRow) -> bytes:
    """The exact bytes to send, checked against the stored SHA-256."""
    payload = keyring.decrypt(delivery.payload, delivery_aad(delivery.id, delivery.incident_id))
    if hashlib.sha256(payload).hexdigest() != delivery.payload_sha256:
        raise DecryptionError(f"delivery {delivery.id}: payload does not match its SHA-256")
    return payload


def get_delivery(
    session: Session, la_scope: str, delivery_id: str, *, for_update: bool = False
) -> DeliveryRow | None:
    """One delivery, or None when it does not exist or is out of scope."""
    statement = scoped(
        select(DeliveryRow).where(DeliveryRow.id == delivery_id), DeliveryRow.la_code, la_scope
    )
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def list_deliveries(
    session: Session,
    la_scope: str,
    *,
    incident_id: str | None = None,
    addressee: str | None = None,
    status: str | Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[DeliveryRow]:
    """Deliveries in the scope matching the filters, oldest first; obligations (``due``) loaded."""
    statement = scoped(select(DeliveryRow), DeliveryRow.la_code, la_scope).options(
        selectinload(DeliveryRow.obligation)
    )
    if incident_id is not None:
        statement = statement.where(DeliveryRow.incident_id == incident_id)
    if addressee is not None:
        statement = statement.where(DeliveryRow.addressee == addressee)
    if status is not None:
        statement = statement.where(
            DeliveryRow.status.in_([status] if isinstance(status, str) else list(status))
        )
    return keyset_page(session, statement, _DELIVERIES, cursor=cursor, limit=limit)


_DELIVERIES = Keyset[DeliveryRow](
    "deliveries",
    (DeliveryRow.created_at, DeliveryRow.id),
    time_and_id,
    lambda row: (row.created_at.isoformat(), row.id),
)
"""Deliveries oldest first: a cursor holds ``(created_at, id)``."""


class Begun(NamedTuple):
    """A try just started: the delivery (now ``sending``), the try, and the incident's reference."""

    delivery: DeliveryRow
    attempt: DeliveryAttemptRow
    incident_reference: str


_START_ATTEMPT = (
    update(DeliveryRow)
    .where(
        DeliveryRow.id == bindparam("delivery_id"),
        DeliveryRow.status.not_in(("acknowledged", "failed")),
        # A task handed to a person (an assisted submission) is theirs until recorded.
        DeliveryRow.channel.is_(None) | (DeliveryRow.channel != "csins"),
        (DeliveryRow.status != "sending") | (DeliveryRow.updated_at <= bindparam("stuck_before")),
        (DeliveryRow.status == "sending")
        | DeliveryRow.next_attempt_at.is_(None)
        | (DeliveryRow.next_attempt_at <= bindparam("due_before")),
    )
    .values(
        attempts=DeliveryRow.attempts + 1,
        status="sending",
        first_attempt_at=func.coalesce(DeliveryRow.first_attempt_at, bindparam("now")),
        updated_at=bindparam("now"),
    )
    .returning(
        DeliveryRow,
        select(IncidentRow.reference)
        .where(IncidentRow.id == DeliveryRow.incident_id)
        .scalar_subquery(),
    )
    # The returned row is the truth: no evaluation of the criteria in Python, and an instance
    # already in the session takes the returned values.
    .execution_options(synchronize_session=False, populate_existing=True)
)
"""Start the next try of a delivery that is startable; built once, as it runs once a job."""

_LOCK_ATTEMPT = (
    select(DeliveryRow, DeliveryAttemptRow)
    .outerjoin(
        DeliveryAttemptRow,
        (DeliveryAttemptRow.delivery_id == DeliveryRow.id)
        & (DeliveryAttemptRow.number == bindparam("number")),
    )
    .where(DeliveryRow.id == bindparam("delivery_id"))
    .with_for_update(of=DeliveryRow)
)
"""The delivery, locked, and one of its tries; built once, as it runs once a job."""


def start_attempt(
    session: Session,
    delivery_id: str,
    *,
    la_scope: str = ALL_LAS,
    stuck_after: dt.timedelta = STUCK_SENDING_AFTER,
    now: dt.datetime | None = None,
) -> Begun | None:
    """Start the delivery's next try; None if missing, acknowledged, failed, not due yet (see
    :data:`EARLY_START_TOLERANCE`), being sent by another worker right now (``sending`` for
    less than ``stuck_after``) or handed to a person (``channel`` ``csins``).

    One conditional ``UPDATE`` locks, checks and moves the row: a duplicate job for the same
    delivery waits for the row lock, then finds the row no longer matches (taken or done). It
    returns the incident's reference too. The try's row is written by the next flush.
    """
    now = now or utcnow()
    statement = _START_ATTEMPT
    if la_scope != ALL_LAS:
        statement = statement.where(DeliveryRow.la_code == la_scope)
    found = session.execute(
        statement,
        {
            "delivery_id": delivery_id,
            "stuck_before": now - stuck_after,
            "due_before": now + EARLY_START_TOLERANCE,
            "now": now,
        },
    ).one_or_none()
    if found is None:
        return None
    delivery, incident_reference = found
    attempt = DeliveryAttemptRow(delivery_id=delivery.id, number=delivery.attempts, started_at=now)
    session.add(attempt)
    return Begun(delivery, attempt, incident_reference)


def lock_attempt(
    session: Session, delivery_id: str, number: int
) -> tuple[DeliveryRow, DeliveryAttemptRow | None] | None:
    """The delivery, locked, and its try ``number`` (None if there is no such try), read by
    one statement: what recording how the try ended changes. None if the delivery is missing."""
    found = session.execute(
        _LOCK_ATTEMPT, {"delivery_id": delivery_id, "number": number}
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def finish_attempt(
    session: Session,
    delivery: DeliveryRow,
    attempt: DeliveryAttemptRow,
    *,
    outcome: AttemptOutcome,
    status_code: int | None = None,
    detail: str | None = None,
    addressee_reference: str | None = None,
    next_attempt_at: dt.datetime | None = None,
    acknowledged_at: dt.datetime | None = None,
) -> DeliveryRow:
    """Record how a try ended and move the delivery on: acknowledged (at ``acknowledged_at``,
    by default now), retrying or failed. The changes are written by the transaction's next
    flush, with whatever else the caller changes (the obligation met, the receipt)."""
    now = utcnow()
    attempt.finished_at = now
    attempt.outcome = outcome
    attempt.status_code = status_code
    attempt.detail = _cut(detail)
    delivery.updated_at = now
    if outcome == "acknowledged":
        delivery.status = "acknowledged"
        delivery.acknowledged_at = acknowledged_at or now
        delivery.next_attempt_at = None
        delivery.addressee_reference = addressee_reference
        delivery.last_response = _cut(detail)
    else:
        delivery.last_error = _cut(detail)
        if outcome == "transient":
            delivery.status = "retrying"
            delivery.next_attempt_at = next_attempt_at or now
        else:
            delivery.status = "failed"
            delivery.next_attempt_at = None
    return delivery


def retry_delivery(session: Session, la_scope: str, delivery_id: str) -> DeliveryRow | None:
    """Requeue a failed delivery by hand (``POST /deliveries/{id}/retry``); None if out of scope.

    Only a ``failed`` delivery changes; any other is returned as it is.
    """
    delivery = get_delivery(session, la_scope, delivery_id, for_update=True)
    if delivery is not None and delivery.status == "failed":
        delivery.status = "queued"
        delivery.next_attempt_at = delivery.updated_at = utcnow()
        delivery.job_id = None
        publication = Publication("delivery", delivery.id, delivery.addressee, delivery.attempts)
        publish_after_commit(session, publication)
    return delivery


def deliveries_due(
    session: Session,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    stuck_after: dt.timedelta = STUCK_SENDING_AFTER,
    resume_after: tuple[dt.datetime, str] | None = None,
) -> list[DeliveryRow]:
    """Deliveries the sweeper should (re-)enqueue: queued or retrying and due, or stuck sending;
    the longest due first, from ``resume_after`` (the ``(next_attempt_at, id)`` of the last
    one seen)."""
    now = now or utcnow()
    statement = select(DeliveryRow).where(
        or_(
            DeliveryRow.status.in_(("queued", "retrying")) & (DeliveryRow.next_attempt_at <= now),
            (DeliveryRow.status == "sending") & (DeliveryRow.updated_at <= now - stuck_after),
        )
    )
    if resume_after is not None:
        statement = statement.where(
            after([DeliveryRow.next_attempt_at, DeliveryRow.id], resume_after)
        )
    statement = statement.order_by(DeliveryRow.next_attempt_at, DeliveryRow.id).limit(limit)
    return list(session.scalars(statement).all())


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:MAX_DETAIL_CHARS]
