"""New incidents: one notification per incident, stored once however often it is sent.

``(la_code, reference)`` is unique (§2, DESIGN.md §4). A resubmission of the same content is a
no-op and different content under the same reference is a conflict; two concurrent submissions
of one reference create one incident, because the insert is ``INSERT ... ON CONFLICT DO
NOTHING``: the loser's insert waits for the winner's transaction, inserts nothing, and the
winner's row is then read and compared. Version 1 of the record is written by
:func:`adapter.store.incident_versions.write_version`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.store.crypto import Keyring
from adapter.store.dialects import dialect_insert
from adapter.store.errors import StoreError
from adapter.store.incident_versions import content_sha256, same_facts, write_version
from adapter.store.models import IncidentRow, IncidentVersionRow, LocalAuthorityRow
from adapter.store.scope import require_la
from adapter.store.sealing import as_mapping

INITIAL_STATUS = "received"
"""Status of a new incident until the API records what the rules decided."""

Outcome = Literal["created", "identical", "conflict"]


@dataclass(frozen=True)
class CreateResult:
    """What a submission did: ``created`` (201), ``identical`` (200) or ``conflict`` (409);
    ``version`` is the version just written (None unless created)."""

    incident: IncidentRow
    outcome: Outcome
    version: IncidentVersionRow | None = None


def ensure_local_authority(session: Session, code: str, name: str | None = None) -> None:
    """Record the LA (race-free upsert); a new name replaces the stored one.

    Reads first so the usual case (known LA, same name) takes no row lock: concurrent submissions
    of one LA must not queue behind each other here.
    """
    known = session.get(LocalAuthorityRow, code)
    if known is not None and (name is None or known.name == name):
        return
    statement = dialect_insert(session)(LocalAuthorityRow).values(
        code=code, name=name, created_at=utcnow()
    )
    if name is None:
        session.execute(statement.on_conflict_do_nothing(index_elements=["code"]))
    else:
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["code"], set_={"name": statement.excluded.name}
            )
        )


def create_incident(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    record: Mapping[str, Any],
    idempotency_key: str | None = None,
    key_id: int | None = None,
    status: str = INITIAL_STATUS,
) -> CreateResult:
    """Store a validated record as a new incident, or say why not (identical or conflict).

    ``record`` is the JSON form of a validated incident record; it must belong to an LA the
    caller may act for. Version 1 and the children are added to the session encrypted, to be
    written by the transaction's next flush.
    """
    local_authority = as_mapping(record.get("local_authority"), "local_authority")
    la_code = require_la(la_scope, str(local_authority.get("code") or ""))
    reference = str(as_mapping(record.get("incident"), "incident")["reference"])
    digest = content_sha256(record)
    ensure_local_authority(session, la_code, local_authority.get("name"))

    now = utcnow()
    inserted = (
        dialect_insert(session)(IncidentRow)
        .values(
            id=str(uuid.uuid4()),
            la_code=la_code,
            reference=reference,
            current_version=1,
            status=status,
            content_sha256=digest,
            idempotency_key=idempotency_key,
            created_by_key_id=key_id,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
        .returning(IncidentRow)
    )
    incident = session.scalars(inserted).one_or_none()
    if incident is None:
        # This reference (or idempotency key) is taken, perhaps by a transaction that committed
        # while this insert waited for it: answer with that incident.
        existing = _find(session, la_code, reference, idempotency_key)
        if existing is None:
            raise StoreError(f"incident {reference} conflicts with a row that is now gone")
        return _classify(session, keyring, existing, record, digest)
    version = write_version(session, keyring, incident, record, key_id, "submitted", new=True)
    return CreateResult(incident, "created", version)


def insert_new_incidents(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    records: Sequence[tuple[Mapping[str, Any], str]],
    key_id: int | None = None,
) -> list[CreateResult | None]:
    """Insert many validated records (each with its status) as new incidents in one statement;
    for each, what :func:`create_incident` would answer when it was created, or None when its
    reference is taken (by a stored incident, or an earlier record of the same batch): call
    :func:`create_incident` for those, which says whether they are identical or in conflict."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, Any]] = set()
    now = utcnow()
    for record, status in records:
        local_authority = as_mapping(record.get("local_authority"), "local_authority")
        la_code = require_la(la_scope, str(local_authority.get("code") or ""))
        if (la_code, local_authority.get("name")) not in seen:
            ensure_local_authority(session, la_code, local_authority.get("name"))
            seen.add((la_code, local_authority.get("name")))
        rows.append(
            {
                "id": str(uuid.uuid4()),
                "la_code": la_code,
                "reference": str(as_mapping(record.get("incident"), "incident")["reference"]),
                "current_version": 1,
                "status": status,
                "content_sha256": content_sha256(record),
                "idempotency_key": None,
                "created_by_key_id": key_id,
                "created_at": now,
                "updated_at": now,
            }
        )
    if not rows:
        return []
    statement = dialect_insert(session)(IncidentRow).on_conflict_do_nothing().returning(IncidentRow)
    inserted = {incident.id: incident for incident in session.scalars(statement, rows)}
    results: list[CreateResult | None] = []
    for (record, _), row in zip(records, rows, strict=True):
        incident = inserted.get(row["id"])
        if incident is None:
            results.append(None)
            continue
        version = write_version(session, keyring, incident, record, key_id, "submitted", new=True)
        results.append(CreateResult(incident, "created", version))
    return results


def _find(
    session: Session, la_code: str, reference: str, idempotency_key: str | None
) -> IncidentRow | None:
    by_reference = session.scalars(
        select(IncidentRow).where(
            IncidentRow.la_code == la_code, IncidentRow.reference == reference
        )
    ).one_or_none()
    if by_reference is not None or idempotency_key is None:
        return by_reference
    return session.scalars(
        select(IncidentRow).where(
            IncidentRow.la_code == la_code, IncidentRow.idempotency_key == idempotency_key
        )
    ).one_or_none()


def _classify(
    session: Session,
    keyring: Keyring,
    existing: IncidentRow,
    record: Mapping[str, Any],
    digest: str,
) -> CreateResult:
    reference = str(record["incident"]["reference"])
    same = existing.reference == reference and same_facts(
        session, keyring, existing, record, digest
    )
    return CreateResult(existing, "identical" if same else "conflict")
