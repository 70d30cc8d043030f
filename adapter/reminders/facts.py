"""What one LA's people need to hear about: open deadlines, waiting and failed deliveries.

Everything is named by references (incident reference, document, addressee, due day), never by
a child's details: the record stays encrypted and unopened. Open deadlines are read with the
query ``GET /deadlines?status=pending,due_soon,overdue`` runs (:func:`list_deadlines` with the
live day), so the feed and the digest list exactly what the API lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from adapter.clock import london_today
from adapter.deadlines import calendar_for, pending_from
from adapter.deadlines.status import start_of_day
from adapter.errors import CalendarRangeError
from adapter.service.replanning import live_status
from adapter.store import assisted
from adapter.store import tracker as obligation_store
from adapter.store.models import DeliveryRow, IncidentRow, ObligationRow
from adapter.store.pagination import MAX_PAGE_SIZE
from adapter.store.scope import scoped
from adapter.store.tracker import LiveDay
from config.settings import Policy

OPEN_STATUSES = ("pending", "due_soon", "overdue")
"""Live statuses of a deadline not yet met (DESIGN.md §5)."""

MAX_FACTS = 10_000
"""Most deadlines or deliveries one feed or digest lists (an LA has hundreds at most)."""

DASH = " \u2013 "
"""Between what is owed and the incident reference in a title (an en dash)."""

SEQUENCE_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
"""iCalendar ``SEQUENCE`` counts minutes since this instant (fits RFC 5545's 32-bit integer)."""

_DeliveryRows = Select[DeliveryRow, str, dt.date]
"""Each delivery with its incident's reference and its deadline's due day (None without one)."""


@dataclass(frozen=True)
class DeadlineFact:
    """One open deadline as the feed and digest show it."""

    obligation_id: int
    incident_id: str
    reference: str
    document: str
    addressee: str
    addressee_name: str
    due: dt.date
    kind: str
    status: str
    explanation: str
    sequence: int

    @property
    def title(self) -> str:
        """``Rapid review to Ofsted - NEL-2026-014`` (an en dash): document, addressee and
        incident reference."""
        direction = "from" if self.document == "panel_response" else "to"
        return f"{words(self.document)} {direction} {self.addressee_name}{DASH}{self.reference}"


@dataclass(frozen=True)
class DeliveryFact:
    """A delivery someone must act on: an assisted submission to make, or a failed delivery."""

    delivery_id: str
    incident_id: str
    reference: str
    document: str
    addressee: str
    addressee_name: str
    status: str
    due: dt.date | None

    @property
    def title(self) -> str:
        return f"{words(self.document)} to {self.addressee_name}{DASH}{self.reference}"


def words(code: str) -> str:
    """A code as words: ``incident_notification`` → ``Incident notification``."""
    text = code.replace("_", " ")
    return text[:1].upper() + text[1:]


def addressee_names(addressees: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """``{code: name}`` from ``config/addressees.yaml``."""
    return {code: str(entry.get("name") or words(code)) for code, entry in addressees.items()}


def open_deadlines(
    session: Session,
    la_scope: str,
    now: dt.datetime,
    policy: Policy,
    names: Mapping[str, str],
) -> list[DeadlineFact]:
    """Every open deadline of the scope, soonest first, as ``GET /deadlines`` finds them."""
    today = london_today(now)
    calendar = calendar_for(policy)
    live = LiveDay(today, pending_from(today, calendar, policy.due_soon_working_days))
    rows: list[ObligationRow] = []
    cursor = None
    while len(rows) < MAX_FACTS:
        page = obligation_store.list_deadlines(
            session, la_scope, status=OPEN_STATUSES, cursor=cursor, limit=MAX_PAGE_SIZE, now=live
        )
        rows += page.items
        if page.next is None:
            break
        cursor = page.next
    references = _references(session, la_scope, {row.incident_id for row in rows})
    facts = []
    for row in rows[:MAX_FACTS]:
        status = live_status(row, now, policy)
        facts.append(
            DeadlineFact(
                obligation_id=row.id,
                incident_id=row.incident_id,
                reference=references.get(row.incident_id, row.incident_id),
                document=row.document,
                addressee=row.addressee,
                addressee_name=names.get(row.addressee, words(row.addressee)),
                due=row.due,
                kind=row.kind,
                status=status,
                explanation=row.explanation,
                sequence=sequence_of(row, status, today, policy),
            )
        )
    return facts


def sequence_of(row: ObligationRow, status: str, today: dt.date, policy: Policy) -> int:
    """The iCalendar ``SEQUENCE`` of a deadline: minutes since :data:`SEQUENCE_EPOCH` to its
    last change, so it only ever rises, and rises whenever the deadline changes.

    A change is either stored (a re-plan moving the due day or explanation, the deadline job
    storing a status: both set ``updated_at``) or the day itself: a deadline becomes due soon
    or overdue at midnight in London whether or not the job has stored it yet, so the start of
    the day its live status began counts as a change too.
    """
    changed = max(row.updated_at, start_of_day(status_began(row.due, status, today, policy)))
    return int((changed - SEQUENCE_EPOCH).total_seconds() // 60)


def status_began(due: dt.date, status: str, today: dt.date, policy: Policy) -> dt.date:
    """The first London day of the live ``status`` of an open deadline due on ``due``.

    Overdue began the day after the due day; due soon began on the first day from which at most
    ``due_soon_working_days`` working days were left (a few days back at most); pending, for
    all this function knows, began long ago (its changes are stored ones).
    """
    if status == "overdue":
        return due + dt.timedelta(days=1)
    if status != "due_soon":
        return dt.date.min + dt.timedelta(days=1)
    calendar = calendar_for(policy)
    began = today
    try:
        while (
            calendar.working_days_between(began - dt.timedelta(days=1), due)
            <= policy.due_soon_working_days
        ):
            began -= dt.timedelta(days=1)
    except CalendarRangeError:  # before the known calendar: as far back as it goes
        pass
    return began


def open_assisted_submissions(
    session: Session, la_scope: str, names: Mapping[str, str]
) -> list[DeliveryFact]:
    """Deliveries waiting for a person to submit them on the national service (DESIGN.md §6):
    routed to the ``csins`` channel and not yet acknowledged (:mod:`adapter.store.assisted`)."""
    return _deliveries(session, assisted.open_only(_delivery_facts(la_scope)), names)


def open_assisted_counts(session: Session, la_scope: str) -> dict[str, int]:
    """How many assisted submissions wait per addressee: the same deliveries as
    :func:`open_assisted_submissions`, counted."""
    return assisted.open_tasks_per_addressee(session, la_scope)


def failed_deliveries(
    session: Session, la_scope: str, names: Mapping[str, str]
) -> list[DeliveryFact]:
    """Deliveries failed for good, waiting for an admin to fix the cause and retry (§6)."""
    statement = _delivery_facts(la_scope).where(DeliveryRow.status == "failed")
    return _deliveries(session, statement, names)


def _delivery_facts(la_scope: str) -> _DeliveryRows:
    statement = (
        select(DeliveryRow, IncidentRow.reference, ObligationRow.due)
        .join(IncidentRow, IncidentRow.id == DeliveryRow.incident_id)
        .outerjoin(ObligationRow, ObligationRow.id == DeliveryRow.obligation_id)
    )
    return scoped(statement, DeliveryRow.la_code, la_scope)


def _deliveries(
    session: Session, statement: _DeliveryRows, names: Mapping[str, str]
) -> list[DeliveryFact]:
    ordered = statement.order_by(DeliveryRow.created_at, DeliveryRow.id).limit(MAX_FACTS)
    found = []
    for row in session.execute(ordered):
        delivery, reference, due = row[0], row[1], row[2]
        found.append(
            DeliveryFact(
                delivery_id=delivery.id,
                incident_id=delivery.incident_id,
                reference=reference,
                document=delivery.document,
                addressee=delivery.addressee,
                addressee_name=names.get(delivery.addressee, words(delivery.addressee)),
                status=delivery.status,
                due=due,
            )
        )
    return found


def _references(session: Session, la_scope: str, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    statement = scoped(
        select(IncidentRow.id, IncidentRow.reference).where(IncidentRow.id.in_(sorted(ids))),
        IncidentRow.la_code,
        la_scope,
    )
    return {incident_id: reference for incident_id, reference in session.execute(statement)}
