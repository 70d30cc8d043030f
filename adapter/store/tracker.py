"""The deadline tracker: what is owed to whom by when (DESIGN.md §5), per incident.

The deadlines module recomputes an incident's obligations from its record and events; the store
keeps one row per ``(incident, document, addressee)``, updating it in place so deliveries and
history keep pointing at the same row. An obligation no longer owed is removed unless it was
already met. ``GET /deadlines`` is :func:`list_deadlines`, keyset-paginated on ``(due, id)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, not_, or_, select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.store.incidents import get_incident
from adapter.store.models import IncidentRow, ObligationRow
from adapter.store.pagination import (
    Keyset,
    Page,
    keyset_page,
)
from adapter.store.scope import scoped

MET_STATUSES = ("met", "met_late")
"""Deadline statuses of an obligation that has been satisfied (``schemas.codes``)."""


@dataclass(frozen=True)
class ObligationSpec:
    """One obligation as the deadlines module computes it (the ``plan`` output's items)."""

    document: str
    addressee: str
    due: dt.date
    kind: str
    explanation: str
    trigger: str | None = None

    @classmethod
    def from_mapping(cls, item: Mapping[str, Any]) -> ObligationSpec:
        """From a ``plan`` obligation dict (``due`` as a date or ISO string)."""
        due = item["due"]
        return cls(
            document=str(item["document"]),
            addressee=str(item["addressee"]),
            due=due if isinstance(due, dt.date) else dt.date.fromisoformat(str(due)),
            kind=str(item["kind"]),
            explanation=str(item.get("explanation") or ""),
            trigger=item.get("trigger"),
        )


def replace_obligations(
    session: Session,
    *,
    la_scope: str,
    incident_id: str,
    obligations: Iterable[ObligationSpec | Mapping[str, Any]],
) -> list[ObligationRow] | None:
    """Make the incident's obligations equal ``obligations``; None when it is out of scope."""
    incident = get_incident(session, la_scope, incident_id)
    if incident is None:
        return None
    wanted = {
        (spec.document, spec.addressee): spec
        for spec in (
            o if isinstance(o, ObligationSpec) else ObligationSpec.from_mapping(o)
            for o in obligations
        )
    }
    existing = {
        (row.document, row.addressee): row
        for row in session.scalars(
            select(ObligationRow).where(ObligationRow.incident_id == incident.id)
        )
    }
    now = utcnow()
    for key, stale in existing.items():
        if key not in wanted and stale.status not in MET_STATUSES and stale.satisfied_at is None:
            session.delete(stale)
    for key, spec in wanted.items():
        row = existing.get(key)
        if row is None:
            row = new_obligation(incident, spec, status="pending")
            session.add(row)
        row.due, row.kind, row.explanation, row.trigger = (
            spec.due,
            spec.kind,
            spec.explanation,
            spec.trigger,
        )
        row.updated_at = now
    session.flush()
    return list_obligations(session, la_scope, incident.id)


def new_obligation(
    incident: IncidentRow,
    spec: ObligationSpec,
    *,
    status: str,
    satisfied_at: dt.datetime | None = None,
) -> ObligationRow:
    """A row for ``spec`` (not yet in a session)."""
    now = utcnow()
    return ObligationRow(
        incident_id=incident.id,
        la_code=incident.la_code,
        document=spec.document,
        addressee=spec.addressee,
        due=spec.due,
        kind=spec.kind,
        explanation=spec.explanation,
        trigger=spec.trigger,
        status=status,
        satisfied_at=satisfied_at,
        created_at=now,
        updated_at=now,
    )


def add_first_obligations(session: Session, rows: Iterable[ObligationRow]) -> list[ObligationRow]:
    """Add the obligations of an incident created in this transaction, which has none to
    replace, to be written by the transaction's next flush."""
    added = list(rows)
    session.add_all(added)
    return added


def list_obligations(session: Session, la_scope: str, incident_id: str) -> list[ObligationRow]:
    """The incident's obligations by due date (empty when out of scope)."""
    statement = select(ObligationRow).where(ObligationRow.incident_id == incident_id)
    return list(
        session.scalars(
            scoped(statement, ObligationRow.la_code, la_scope).order_by(
                ObligationRow.due, ObligationRow.id
            )
        ).all()
    )


def get_obligation(session: Session, la_scope: str, obligation_id: int) -> ObligationRow | None:
    """One obligation, or None when it does not exist or is out of scope."""
    statement = select(ObligationRow).where(ObligationRow.id == obligation_id)
    return session.scalars(scoped(statement, ObligationRow.la_code, la_scope)).one_or_none()


def list_deadlines(
    session: Session,
    la_scope: str,
    *,
    status: str | Sequence[str] | None = None,
    addressee: str | None = None,
    document: str | None = None,
    incident_id: str | None = None,
    due_on_or_before: dt.date | None = None,
    due_on_or_after: dt.date | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    now: LiveDay | None = None,
) -> Page[ObligationRow]:
    """Obligations in the scope matching every filter given, soonest due first.

    With ``now``, ``status`` is each deadline's status at that moment (DESIGN.md §5), as the
    list shows it, rather than the status the deadline job last stored: an open deadline is
    overdue, due soon or pending by its due day alone, so the filter is a range of due days.
    """
    statement = scoped(select(ObligationRow), ObligationRow.la_code, la_scope)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        statement = statement.where(
            ObligationRow.status.in_(wanted) if now is None else or_(*_live(wanted, now))
        )
    if addressee is not None:
        statement = statement.where(ObligationRow.addressee == addressee)
    if document is not None:
        statement = statement.where(ObligationRow.document == document)
    if incident_id is not None:
        statement = statement.where(ObligationRow.incident_id == incident_id)
    if due_on_or_before is not None:
        statement = statement.where(ObligationRow.due <= due_on_or_before)
    if due_on_or_after is not None:
        statement = statement.where(ObligationRow.due >= due_on_or_after)
    return keyset_page(session, statement, _DEADLINES, cursor=cursor, limit=limit)


def _due_and_id(parts: Sequence[str | int]) -> tuple[dt.date, int]:
    due, last_id = parts
    return dt.date.fromisoformat(str(due)), int(last_id)


_DEADLINES = Keyset[ObligationRow](
    "deadlines",
    (ObligationRow.due, ObligationRow.id),
    _due_and_id,
    lambda row: (row.due.isoformat(), row.id),
)
"""Deadlines soonest due first: a cursor holds ``(due, id)``."""


@dataclass(frozen=True)
class LiveDay:
    """Where open deadlines stand today: due before ``today``, overdue; from ``today`` to the
    day before ``pending_from``, due soon; from ``pending_from`` on, pending."""

    today: dt.date
    pending_from: dt.date


def _live(statuses: Sequence[str], day: LiveDay) -> Iterator[ColumnElement[bool]]:
    is_open = and_(ObligationRow.acknowledged_at.is_(None), ObligationRow.satisfied_at.is_(None))
    for status in statuses:
        if status == "overdue":
            yield and_(is_open, ObligationRow.due < day.today)
        elif status == "due_soon":
            yield and_(
                is_open, ObligationRow.due >= day.today, ObligationRow.due < day.pending_from
            )
        elif status == "pending":
            yield and_(is_open, ObligationRow.due >= day.pending_from)
        else:  # met and met_late are final: stored when the deadline was met
            yield and_(not_(is_open), ObligationRow.status == status)


def update_obligation(
    session: Session,
    la_scope: str,
    obligation_id: int,
    *,
    status: str | None = None,
    satisfied_at: dt.datetime | None = None,
    acknowledged_at: dt.datetime | None = None,
) -> ObligationRow | None:
    """Change an obligation's status or record when it was met; None when out of scope."""
    row = get_obligation(session, la_scope, obligation_id)
    if row is None:
        return None
    if status is not None:
        row.status = status
    if satisfied_at is not None:
        row.satisfied_at = satisfied_at
    if acknowledged_at is not None:
        row.acknowledged_at = acknowledged_at
    row.updated_at = utcnow()
    return row
