"""The transactional outbox (DESIGN.md §2, §6): one row per document per addressee.

:func:`enqueue_delivery` is called in the same transaction as the incident change that caused
it, so a committed change always has its deliveries and a rolled-back one has none. RQ carries
only the delivery id; the worker moves a row through ``queued → sending → acknowledged``, or
``retrying`` after a transient failure and ``failed`` after a permanent one, recording every try
in ``delivery_attempts``. The sweeper finds rows whose job went missing with :func:`deliveries_due`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from adapter.crypto import DecryptionError, Keyring
from adapter.store.errors import InvalidCursor
from adapter.store.models import Delivery, DeliveryAttempt, Incident, Obligation
from adapter.store.pagination import Page, after, decode_cursor, page_from, page_size
from adapter.store.scope import ALL_LAS, scoped
from adapter.store.sealing import delivery_aad
from adapter.store.types import utcnow

STUCK_SENDING_AFTER = dt.timedelta(minutes=15)
"""A delivery ``sending`` for longer than this (a killed worker) is due again."""

MAX_DETAIL_CHARS = 1000
"""Longest error, response or attempt detail kept (characters); the rest is cut."""

AttemptOutcome = Literal["acknowledged", "transient", "permanent"]


def enqueue_delivery(
    session: Session,
    keyring: Keyring,
    *,
    incident: Incident,
    document: str,
    addressee: str,
    payload: bytes,
    version: int | None = None,
    obligation: Obligation | None = None,
    media_type: str = "application/json",
) -> Delivery:
    """Add an outbox row sending exactly ``payload`` (stored encrypted, hashed in the clear),
    to be written with the obligation it meets by the transaction's next flush."""
    delivery = Delivery(
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
    return delivery


def delivery_payload(keyring: Keyring, delivery: Delivery) -> bytes:
    """The exact bytes to send, checked against the stored SHA-256."""
    payload = keyring.decrypt(delivery.payload, delivery_aad(delivery.id, delivery.incident_id))
    if hashlib.sha256(payload).hexdigest() != delivery.payload_sha256:
        raise DecryptionError(f"delivery {delivery.id}: payload does not match its SHA-256")
    return payload


def get_delivery(
    session: Session, la_scope: str, delivery_id: str, *, for_update: bool = False
) -> Delivery | None:
    """One delivery, or None when it does not exist or is out of scope."""
    statement = scoped(
        select(Delivery).where(Delivery.id == delivery_id), Delivery.la_code, la_scope
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
) -> Page[Delivery]:
    """Deliveries in the scope matching the filters, oldest first; obligations (``due``) loaded."""
    size = page_size(limit)
    statement = scoped(select(Delivery), Delivery.la_code, la_scope).options(
        selectinload(Delivery.obligation)
    )
    if incident_id is not None:
        statement = statement.where(Delivery.incident_id == incident_id)
    if addressee is not None:
        statement = statement.where(Delivery.addressee == addressee)
    if status is not None:
        statement = statement.where(
            Delivery.status.in_([status] if isinstance(status, str) else list(status))
        )
    if cursor is not None:
        created_at, last_id = decode_cursor("deliveries", cursor, 2)
        try:
            key = (dt.datetime.fromisoformat(str(created_at)), str(last_id))
        except ValueError:
            raise InvalidCursor("the cursor is not one this service issued") from None
        statement = statement.where(after([Delivery.created_at, Delivery.id], key))
    rows = session.scalars(
        statement.order_by(Delivery.created_at, Delivery.id).limit(size + 1)
    ).all()
    return page_from(rows, size, "deliveries", lambda row: (row.created_at.isoformat(), row.id))


def begin_attempt(
    session: Session,
    delivery_id: str,
    *,
    la_scope: str = ALL_LAS,
    stuck_after: dt.timedelta = STUCK_SENDING_AFTER,
) -> tuple[Delivery, DeliveryAttempt] | None:
    """Lock the delivery and start its next try; None if missing, acknowledged, failed, or
    being sent by another worker right now (``sending`` for less than ``stuck_after``).

    The row lock makes a duplicate job for the same delivery wait, then see it taken or done.
    """
    delivery = get_delivery(session, la_scope, delivery_id, for_update=True)
    if delivery is None or delivery.status in ("acknowledged", "failed"):
        return None
    now = utcnow()
    if delivery.status == "sending" and delivery.updated_at > now - stuck_after:
        return None
    delivery.attempts += 1
    delivery.status = "sending"
    delivery.first_attempt_at = delivery.first_attempt_at or now
    delivery.updated_at = now
    attempt = DeliveryAttempt(delivery_id=delivery.id, number=delivery.attempts, started_at=now)
    session.add(attempt)
    session.flush()
    return delivery, attempt


def finish_attempt(
    session: Session,
    delivery: Delivery,
    attempt: DeliveryAttempt,
    *,
    outcome: AttemptOutcome,
    status_code: int | None = None,
    detail: str | None = None,
    addressee_reference: str | None = None,
    next_attempt_at: dt.datetime | None = None,
    acknowledged_at: dt.datetime | None = None,
) -> Delivery:
    """Record how a try ended and move the delivery on: acknowledged (at ``acknowledged_at``,
    by default now), retrying or failed."""
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
    session.flush()
    return delivery


def retry_delivery(session: Session, la_scope: str, delivery_id: str) -> Delivery | None:
    """Requeue a failed delivery by hand (``POST /deliveries/{id}/retry``); None if out of scope.

    Only a ``failed`` delivery changes; any other is returned as it is.
    """
    delivery = get_delivery(session, la_scope, delivery_id, for_update=True)
    if delivery is not None and delivery.status == "failed":
        delivery.status = "queued"
        delivery.next_attempt_at = delivery.updated_at = utcnow()
        delivery.job_id = None
    return delivery


def deliveries_due(
    session: Session,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    stuck_after: dt.timedelta = STUCK_SENDING_AFTER,
) -> list[Delivery]:
    """Deliveries the sweeper should (re-)enqueue: queued or retrying and due, or stuck sending."""
    now = now or utcnow()
    statement = (
        select(Delivery)
        .where(
            or_(
                Delivery.status.in_(("queued", "retrying")) & (Delivery.next_attempt_at <= now),
                (Delivery.status == "sending") & (Delivery.updated_at <= now - stuck_after),
            )
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(session.scalars(statement).all())


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:MAX_DETAIL_CHARS]
