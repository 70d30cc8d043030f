"""The audit log: append-only lines saying who did what to which object (no personal data).

Lines are only ever inserted: the ORM refuses to update or delete one. ``detail`` holds ids,
counts and codes, never a child's details, so the log can be shown to compliance officers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper, Session

from adapter.store.access_models import AuditEntryRow
from adapter.store.errors import InvalidCursor, StoreError
from adapter.store.pagination import (
    NOT_ISSUED,
    Keyset,
    Page,
    keyset_page,
)
from adapter.store.scope import ALL_LAS


class AuditLogIsAppendOnly(StoreError):
    """Something tried to change or remove an audit line."""


@event.listens_for(AuditEntryRow, "before_update")
@event.listens_for(AuditEntryRow, "before_delete")
def _refuse_change(_mapper: Mapper[Any], _connection: Connection, entry: AuditEntryRow) -> None:
    raise AuditLogIsAppendOnly(f"audit line {entry.id} cannot be changed or removed")


def audit(
    session: Session,
    *,
    action: str,
    la_code: str | None = None,
    key_id: int | None = None,
    actor_role: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntryRow:
    """Append one line (e.g. ``action="incident.created"``) in the caller's transaction."""
    entry = AuditEntryRow(
        action=action,
        la_code=la_code,
        key_id=key_id,
        actor_role=actor_role,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=dict(detail) if detail is not None else None,
    )
    session.add(entry)
    if not flush_deferred(session):
        session.flush()
    return entry


_DEFER_FLUSH = "csins.defer_flush"


def flush_deferred(session: Session) -> bool:
    """Whether a batch writer has the session write its rows at the batch's end (one flush of
    many rows per table) rather than after each line, as it does by default."""
    return bool(session.info.get(_DEFER_FLUSH))


def defer_flush(session: Session, deferred: bool) -> None:
    """Set :func:`flush_deferred` for ``session`` (the batch writer flushes itself)."""
    session.info[_DEFER_FLUSH] = deferred


class Actor(Protocol):
    """Who acted: an API key's id and role (``adapter.store.api_keys.Principal`` is one)."""

    @property
    def key_id(self) -> int | None: ...

    @property
    def role(self) -> str: ...


def audit_by(
    session: Session,
    actor: Actor,
    action: str,
    *,
    la_code: str,
    object_type: str,
    object_id: str | int,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntryRow:
    """Append what ``actor`` did to one object of ``la_code`` (the usual form of :func:`audit`)."""
    return audit(
        session,
        action=action,
        la_code=la_code,
        key_id=actor.key_id,
        actor_role=actor.role,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


def list_audit(
    session: Session,
    la_scope: str,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    at_from: dt.datetime | None = None,
    at_before: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AuditEntryRow]:
    """Audit lines in the scope, newest first, from ``at_from`` (included) to ``at_before`` (not).

    LA-less lines (operator actions) need scope ``*``."""
    statement = select(AuditEntryRow)
    if la_scope != ALL_LAS:
        statement = statement.where(AuditEntryRow.la_code == la_scope)
    if action is not None:
        statement = statement.where(AuditEntryRow.action == action)
    if object_type is not None:
        statement = statement.where(AuditEntryRow.object_type == object_type)
    if object_id is not None:
        statement = statement.where(AuditEntryRow.object_id == object_id)
    if at_from is not None:
        statement = statement.where(AuditEntryRow.at >= at_from)
    if at_before is not None:
        statement = statement.where(AuditEntryRow.at < at_before)
    return keyset_page(session, statement, _AUDIT, cursor=cursor, limit=limit)


def _line_id(parts: Sequence[str | int]) -> tuple[int]:
    (last_id,) = parts
    if not isinstance(last_id, int):
        raise InvalidCursor(NOT_ISSUED)
    return (last_id,)


_AUDIT = Keyset[AuditEntryRow]("audit", (AuditEntryRow.id,), _line_id, lambda row: (row.id,), True)
"""Audit lines newest first: a cursor holds the id of the last line shown."""
