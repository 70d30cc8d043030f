"""Assisted submissions in the store: the open tasks of the ``csins`` channel (DESIGN.md §6).

A delivery routed to ``csins`` is not sent: the worker hands it to a person (its ``channel``
says ``csins``, it stays ``queued`` with no next try) until someone records the submission they
made on the national online service. One task is one document version of one incident: the
Panel's, Ofsted's and the DfE's deliveries of the same notification are made by one submission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from adapter.store.models import AssistedSubmissionRow, DeliveryRow, IncidentRow
from adapter.store.scope import ALL_LAS, scoped

CSINS = "csins"
"""The channel of an assisted submission."""

FINISHED = ("acknowledged", "failed")
"""Delivery statuses that close a task."""


@dataclass(frozen=True)
class Task:
    """One submission to make: a document version, to the addressees its deliveries name."""

    incident_id: str
    incident_reference: str
    la_code: str
    document: str
    version: int
    deliveries: tuple[DeliveryRow, ...]
    """The open ``csins`` deliveries the submission covers, addressee by addressee."""

    @property
    def due(self) -> dt.date | None:
        """The earliest due day of the deliveries' obligations (None: no deadline asks)."""
        days = [d.obligation.due for d in self.deliveries if d.obligation is not None]
        return min(days) if days else None

    @property
    def opened_at(self) -> dt.datetime | None:
        """When the first of its deliveries was handed to a person."""
        times = [d.first_attempt_at for d in self.deliveries if d.first_attempt_at is not None]
        return min(times) if times else None


_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


def open_only(statement: _S) -> _S:
    """``statement`` narrowed to deliveries that are open assisted submissions."""
    return statement.where(DeliveryRow.channel == CSINS, DeliveryRow.status.not_in(FINISHED))


def open_tasks(session: Session, la_scope: str) -> list[Task]:
    """Every open task in the scope, the earliest due first (no deadline last)."""
    rows = session.execute(
        open_only(scoped(select(DeliveryRow, IncidentRow.reference), DeliveryRow.la_code, la_scope))
        .join(IncidentRow, IncidentRow.id == DeliveryRow.incident_id)
        .options(selectinload(DeliveryRow.obligation))
        .order_by(
            DeliveryRow.incident_id,
            DeliveryRow.document,
            DeliveryRow.version,
            DeliveryRow.addressee,
        )
    ).all()
    return sorted(_grouped(rows), key=_by_due)


def task_of(session: Session, la_scope: str, delivery: DeliveryRow, *, lock: bool = True) -> Task:
    """The open task ``delivery`` belongs to: its open ``csins`` siblings of the same document
    version (itself among them if it is open). Rows are locked (``lock``), in addressee order,
    and then read as they stand under the lock, not as the session last saw them."""
    statement = (
        open_only(
            scoped(select(DeliveryRow, IncidentRow.reference), DeliveryRow.la_code, la_scope).where(
                DeliveryRow.incident_id == delivery.incident_id,
                DeliveryRow.document == delivery.document,
                DeliveryRow.version == delivery.version,
            )
        )
        .join(IncidentRow, IncidentRow.id == DeliveryRow.incident_id)
        .options(selectinload(DeliveryRow.obligation))
        .order_by(DeliveryRow.addressee)
    )
    if lock:
        statement = statement.with_for_update(of=DeliveryRow).execution_options(
            populate_existing=True
        )
    tasks = _grouped(session.execute(statement).all())
    return (
        tasks[0]
        if tasks
        else Task(
            delivery.incident_id, "", delivery.la_code, delivery.document, delivery.version, ()
        )
    )


def open_tasks_per_addressee(session: Session, la_scope: str = ALL_LAS) -> dict[str, int]:
    """How many open assisted submissions (deliveries waiting for a person) each addressee has
    in the scope, for a gauge (``/metrics`` counts the caller's LA only). Addressees with none
    are absent."""
    rows = session.execute(
        open_only(
            scoped(select(DeliveryRow.addressee, func.count()), DeliveryRow.la_code, la_scope)
        ).group_by(DeliveryRow.addressee)
    ).all()
    return {addressee: count for addressee, count in rows}


def submission_of(session: Session, delivery: DeliveryRow) -> AssistedSubmissionRow | None:
    """The recorded submission that acknowledged ``delivery``, if one did."""
    if delivery.submission_id is None:
        return None
    return session.get(AssistedSubmissionRow, delivery.submission_id)


def _grouped(rows: Sequence[tuple[DeliveryRow, str]]) -> list[Task]:
    groups: dict[tuple[str, str, int], list[tuple[DeliveryRow, str]]] = {}
    for delivery, reference in rows:
        key = (delivery.incident_id, delivery.document, delivery.version)
        groups.setdefault(key, []).append((delivery, reference))
    return [
        Task(
            incident_id=incident_id,
            incident_reference=members[0][1],
            la_code=members[0][0].la_code,
            document=document,
            version=version,
            deliveries=tuple(sorted((d for d, _ in members), key=lambda d: d.addressee)),
        )
        for (incident_id, document, version), members in groups.items()
    ]


def _by_due(task: Task) -> tuple[bool, dt.date, dt.datetime, str]:
    due = task.due
    opened = task.opened_at or dt.datetime.max.replace(tzinfo=dt.UTC)
    return (due is None, due or dt.date.max, opened, task.incident_reference)
