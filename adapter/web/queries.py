"""Read-only queries the pages need and the repositories do not offer yet, scoped like them.

The dashboard's per-addressee counts are one ``GROUP BY`` (not a page of rows); they apply the
caller's LA scope exactly as the repositories do (``adapter.store.scope``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from adapter.store.models import DeliveryRow, IncidentRow
from adapter.store.scope import scoped

_S = TypeVar("_S")

WAITING = ("queued", "sending", "retrying")
"""Delivery statuses still waiting for an acknowledgement."""


@dataclass(frozen=True)
class QueueSummary:
    """One addressee's queue: how many deliveries are in each state, and the oldest waiting."""

    addressee: str
    queued: int = 0
    sending: int = 0
    retrying: int = 0
    failed: int = 0
    acknowledged_today: int = 0
    oldest_waiting: dt.datetime | None = None


def in_scope(statement: _S, la_column: InstrumentedAttribute[str], la_scope: str) -> _S:
    """``adapter.store.scope.scoped`` for a select of several columns (its type variable is
    bound to one-column selects)."""
    return cast(_S, scoped(cast(Select[Any], statement), la_column, la_scope))


def queue_summaries(
    session: Session, la_scope: str, addressees: Iterable[str], today_starts: dt.datetime
) -> list[QueueSummary]:
    """Per addressee (every configured one, then any other seen): counts and oldest waiting.

    ``today_starts`` is midnight in Europe/London as an aware instant: "acknowledged today".
    """
    counts: dict[str, dict[str, int]] = {}
    status_counts = in_scope(
        select(DeliveryRow.addressee, DeliveryRow.status, func.count())
        .where(DeliveryRow.status != "acknowledged")
        .group_by(DeliveryRow.addressee, DeliveryRow.status),
        DeliveryRow.la_code,
        la_scope,
    )
    for addressee, status, count in session.execute(status_counts):
        counts.setdefault(addressee, {})[status] = count
    acknowledged = in_scope(
        select(DeliveryRow.addressee, func.count())
        .where(DeliveryRow.status == "acknowledged", DeliveryRow.acknowledged_at >= today_starts)
        .group_by(DeliveryRow.addressee),
        DeliveryRow.la_code,
        la_scope,
    )
    for addressee, count in session.execute(acknowledged):
        counts.setdefault(addressee, {})["acknowledged_today"] = count
    oldest: dict[str, dt.datetime] = {}
    waiting = in_scope(
        select(DeliveryRow.addressee, func.min(DeliveryRow.created_at))
        .where(DeliveryRow.status.in_(WAITING))
        .group_by(DeliveryRow.addressee),
        DeliveryRow.la_code,
        la_scope,
    )
    for addressee, created_at in session.execute(waiting):
        oldest[addressee] = created_at
    names = list(dict.fromkeys([*addressees, *sorted(counts)]))
    return [
        QueueSummary(
            addressee=name,
            queued=counts.get(name, {}).get("queued", 0),
            sending=counts.get(name, {}).get("sending", 0),
            retrying=counts.get(name, {}).get("retrying", 0),
            failed=counts.get(name, {}).get("failed", 0),
            acknowledged_today=counts.get(name, {}).get("acknowledged_today", 0),
            oldest_waiting=_aware(oldest.get(name)),
        )
        for name in names
    ]


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """Aggregates bypass the UTC column type on SQLite: give a naive UTC result its zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)


def incident_references(session: Session, la_scope: str, ids: Iterable[str]) -> dict[str, str]:
    """``{incident id: reference}`` for the ids in the scope (list pages show references)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    statement = in_scope(
        select(IncidentRow.id, IncidentRow.reference).where(IncidentRow.id.in_(wanted)),
        IncidentRow.la_code,
        la_scope,
    )
    return {incident_id: reference for incident_id, reference in session.execute(statement)}


def incidents_by_reference(session: Session, la_scope: str, reference: str) -> list[IncidentRow]:
    """The incidents in the scope whose reference is ``reference`` (one per LA at most)."""
    statement = in_scope(
        select(IncidentRow).where(IncidentRow.reference == reference), IncidentRow.la_code, la_scope
    )
    return list(session.scalars(statement.order_by(IncidentRow.la_code)).all())
