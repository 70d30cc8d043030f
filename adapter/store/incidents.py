"""Incidents read within an LA scope: found, listed, locked for a change, their status set; the
record of each version and the details of each child decrypted.

An incident is created by :mod:`adapter.store.new_incidents` and amended by
:mod:`adapter.store.incident_versions`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.store.crypto import Keyring
from adapter.store.errors import InvalidCursor
from adapter.store.models import (
    ChildRow,
    IncidentRow,
    IncidentVersionRow,
)
from adapter.store.pagination import Page, after, decode_cursor, page_from, page_size
from adapter.store.scope import ALL_LAS, scoped
from adapter.store.sealing import as_mapping, child_aad, open_json, version_aad


def scoped_incident(la_scope: str, incident_id: str) -> Select[IncidentRow]:
    """The statement selecting the incident, limited to the scope."""
    return scoped(
        select(IncidentRow).where(IncidentRow.id == incident_id), IncidentRow.la_code, la_scope
    )


def get_incident(session: Session, la_scope: str, incident_id: str) -> IncidentRow | None:
    """The incident, or None when it does not exist or belongs to an LA outside the scope."""
    return session.scalars(scoped_incident(la_scope, incident_id)).one_or_none()


def lock_incident(session: Session, la_scope: str, incident_id: str) -> IncidentRow | None:
    """The incident, its row locked until the transaction ends (PostgreSQL; SQLite transactions
    are serialised already), re-read under the lock: concurrent events and amendments of one
    incident, and a worker's re-plan after an acknowledgement, then run one after the other,
    never each without the other's change.

    ``FOR NO KEY UPDATE``, as the worker takes it: rows that merely refer to the incident (a
    worker's receipt) can still be inserted meanwhile.
    """
    statement = scoped_incident(la_scope, incident_id)
    return session.scalars(
        statement.with_for_update(key_share=True).execution_options(populate_existing=True)
    ).one_or_none()


def get_incident_by_reference(
    session: Session, la_scope: str, la_code: str, reference: str
) -> IncidentRow | None:
    """The incident of ``(la_code, reference)`` if the scope may see that LA."""
    if la_scope not in (ALL_LAS, la_code):
        return None
    return session.scalars(
        select(IncidentRow).where(
            IncidentRow.la_code == la_code, IncidentRow.reference == reference
        )
    ).one_or_none()


def list_incidents(
    session: Session,
    la_scope: str,
    *,
    status: str | Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[IncidentRow]:
    """Incidents in the scope, oldest first, keyset-paginated on ``(created_at, id)``."""
    size = page_size(limit)
    statement = scoped(select(IncidentRow), IncidentRow.la_code, la_scope)
    if status is not None:
        statement = statement.where(
            IncidentRow.status.in_([status] if isinstance(status, str) else list(status))
        )
    if cursor is not None:
        created_at, last_id = decode_cursor("incidents", cursor, 2)
        statement = statement.where(
            after([IncidentRow.created_at, IncidentRow.id], [_parse_time(created_at), str(last_id)])
        )
    rows = session.scalars(
        statement.order_by(IncidentRow.created_at, IncidentRow.id).limit(size + 1)
    ).all()
    return page_from(rows, size, "incidents", lambda row: (row.created_at.isoformat(), row.id))


def _parse_time(value: str | int) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidCursor("the cursor is not one this service issued") from None


def set_incident_status(
    session: Session, la_scope: str, incident_id: str, status: str
) -> IncidentRow | None:
    """Record what the rules decided (e.g. ``not_notifiable``); None when out of scope."""
    incident = get_incident(session, la_scope, incident_id)
    if incident is not None:
        incident.status = status
        incident.updated_at = utcnow()
    return incident


def list_versions(session: Session, la_scope: str, incident_id: str) -> list[IncidentVersionRow]:
    """Every version of the incident, oldest first (empty when out of scope)."""
    statement = (
        select(IncidentVersionRow)
        .join(IncidentRow, IncidentRow.id == IncidentVersionRow.incident_id)
        .where(IncidentVersionRow.incident_id == incident_id)
        .order_by(IncidentVersionRow.version)
    )
    return list(session.scalars(scoped(statement, IncidentRow.la_code, la_scope)).all())


def version_record(keyring: Keyring, version: IncidentVersionRow) -> dict[str, Any]:
    """The decrypted record of one version."""
    record = open_json(keyring, version.payload, version_aad(version.incident_id, version.version))
    return dict(as_mapping(record, "incident version"))


def current_record(session: Session, keyring: Keyring, incident: IncidentRow) -> dict[str, Any]:
    """The decrypted record of the incident's current version."""
    version = session.get_one(IncidentVersionRow, (incident.id, incident.current_version))
    return version_record(keyring, version)


def child_details(keyring: Keyring, child: ChildRow) -> dict[str, Any]:
    """The decrypted personal details of one child."""
    details = open_json(
        keyring, child.details, child_aad(child.incident_id, child.version, child.index)
    )
    return dict(as_mapping(details, "child"))
