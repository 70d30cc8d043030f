"""Incidents, their versions and children: submitted, amended and read within an LA scope.

One notification per incident: ``(la_code, reference)`` is unique (§2, DESIGN.md §4). A
resubmission of the same content is a no-op and different content under the same reference is a
conflict; two concurrent submissions of one reference create one incident, because the insert
is ``INSERT ... ON CONFLICT DO NOTHING``: the loser's insert waits for the winner's transaction,
inserts nothing, and the winner's row is then read and compared.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.crypto import Keyring
from adapter.store.errors import InvalidCursor, RecordMismatch, StoreError
from adapter.store.models import Child, Incident, IncidentVersion, LocalAuthority
from adapter.store.pagination import Page, after, decode_cursor, page_from, page_size
from adapter.store.scope import ALL_LAS, require_la, scoped
from adapter.store.sealing import (
    as_mapping,
    canonical_json,
    child_aad,
    open_json,
    seal_json,
    version_aad,
)
from schemas.incident import normalise_postcode
from schemas.references import normalise_reference

INITIAL_STATUS = "received"
"""Status of a new incident until the API records what the rules decided."""

Outcome = Literal["created", "identical", "conflict"]


@dataclass(frozen=True)
class CreateResult:
    """What a submission did: ``created`` (201), ``identical`` (200) or ``conflict`` (409);
    ``version`` is the version just written (None unless created)."""

    incident: Incident
    outcome: Outcome
    version: IncidentVersion | None = None


@dataclass(frozen=True)
class VersionResult:
    """An amendment's version; ``created`` is False when the content equals the current version."""

    incident: Incident
    version: IncidentVersion
    created: bool


def content_sha256(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON: equal records, equal hashes."""
    return hashlib.sha256(canonical_json(record)).hexdigest()


def _dialect_insert(session: Session) -> Any:
    """``insert`` of the session's dialect (both have ``ON CONFLICT``)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def ensure_local_authority(session: Session, code: str, name: str | None = None) -> None:
    """Record the LA (race-free upsert); a new name replaces the stored one.

    Reads first so the usual case (known LA, same name) takes no row lock: concurrent submissions
    of one LA must not queue behind each other here.
    """
    known = session.get(LocalAuthority, code)
    if known is not None and (name is None or known.name == name):
        return
    statement = _dialect_insert(session)(LocalAuthority).values(
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
        _dialect_insert(session)(Incident)
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
        .returning(Incident)
    )
    incident = session.scalars(inserted).one_or_none()
    if incident is None:
        # This reference (or idempotency key) is taken, perhaps by a transaction that committed
        # while this insert waited for it: answer with that incident.
        existing = _find(session, la_code, reference, idempotency_key)
        if existing is None:
            raise StoreError(f"incident {reference} conflicts with a row that is now gone")
        return _classify(session, keyring, existing, record, digest)
    version = _write_version(session, keyring, incident, record, key_id, "submitted", new=True)
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
    statement = _dialect_insert(session)(Incident).on_conflict_do_nothing().returning(Incident)
    inserted = {incident.id: incident for incident in session.scalars(statement, rows)}
    results: list[CreateResult | None] = []
    for (record, _), row in zip(records, rows, strict=True):
        incident = inserted.get(row["id"])
        if incident is None:
            results.append(None)
            continue
        version = _write_version(session, keyring, incident, record, key_id, "submitted", new=True)
        results.append(CreateResult(incident, "created", version))
    return results


def _find(
    session: Session, la_code: str, reference: str, idempotency_key: str | None
) -> Incident | None:
    by_reference = session.scalars(
        select(Incident).where(Incident.la_code == la_code, Incident.reference == reference)
    ).one_or_none()
    if by_reference is not None or idempotency_key is None:
        return by_reference
    return session.scalars(
        select(Incident).where(
            Incident.la_code == la_code, Incident.idempotency_key == idempotency_key
        )
    ).one_or_none()


def _classify(
    session: Session, keyring: Keyring, existing: Incident, record: Mapping[str, Any], digest: str
) -> CreateResult:
    reference = str(record["incident"]["reference"])
    same = existing.reference == reference and same_facts(
        session, keyring, existing, record, digest
    )
    return CreateResult(existing, "identical" if same else "conflict")


def same_facts(
    session: Session,
    keyring: Keyring,
    incident: Incident,
    record: Mapping[str, Any],
    digest: str | None = None,
) -> bool:
    """Whether ``record`` says what the incident's current version says.

    Where the record came from (``source``: the export file, its row, the case-system ids) is
    not a fact about the incident: this week's export of an unchanged incident, at another row
    of another file, is the same notification, not a conflict or an amendment to send. Equal
    hashes settle it at once; otherwise the current version is read and compared without it.
    """
    if (digest or content_sha256(record)) == incident.content_sha256:
        return True
    current = current_record(session, keyring, incident)
    return _facts(current) == _facts(record)


def _facts(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record without its ``source`` or ``referral`` (where and when it came from: an
    agency re-sending its referral the next day sends the same facts), its postcode in the
    form the schema now stores (a record stored before postcodes were normalised says the same
    as one sent today)."""
    facts = {key: value for key, value in record.items() if key not in ("source", "referral")}
    incident = facts.get("incident")
    if not isinstance(incident, Mapping):
        return facts
    location = incident.get("location")
    if isinstance(location, Mapping) and isinstance(location.get("postcode"), str):
        postcode = normalise_postcode(location["postcode"])
        facts["incident"] = {**incident, "location": {**location, "postcode": postcode}}
    return facts


def _write_version(
    session: Session,
    keyring: Keyring,
    incident: Incident,
    record: Mapping[str, Any],
    key_id: int | None,
    reason: str,
    *,
    new: bool = False,
) -> IncidentVersion:
    """Add version ``incident.current_version`` and make its children the incident's children
    (``new``: the incident was inserted in this transaction, so it has no children to drop)."""
    number = incident.current_version
    version = IncidentVersion(
        incident_id=incident.id,
        version=number,
        reason=reason,
        created_by_key_id=key_id,
        payload=seal_json(keyring, record, version_aad(incident.id, number)),
        payload_sha256=incident.content_sha256,
    )
    session.add(version)
    if not new:
        session.execute(delete(Child).where(Child.incident_id == incident.id))
        session.expire(incident, ["children"])
    for index, child in enumerate(record.get("children") or ()):
        child = as_mapping(child, f"children[{index}]")
        session.add(
            Child(
                incident_id=incident.id,
                index=index,
                version=number,
                details=seal_json(keyring, child, child_aad(incident.id, number, index)),
                identity_known=bool(child.get("identity_known")),
                outcome=str(child.get("outcome")),
                looked_after=child.get("looked_after"),
                care_leaver=child.get("care_leaver"),
            )
        )
    return version


def add_version(
    session: Session,
    keyring: Keyring,
    *,
    la_scope: str,
    incident_id: str,
    record: Mapping[str, Any],
    key_id: int | None = None,
    reason: str = "amendment",
) -> VersionResult | None:
    """Amend an incident (§2: facts that emerge later); None when it is not in the scope.

    The incident row is locked first (``FOR NO KEY UPDATE``, as for events), so concurrent
    amendments get consecutive version numbers.
    """
    incident = session.scalars(
        scoped(
            select(Incident).where(Incident.id == incident_id), Incident.la_code, la_scope
        ).with_for_update(key_share=True)
    ).one_or_none()
    if incident is None:
        return None
    if str(record["local_authority"]["code"]) != incident.la_code or not _same_reference(
        incident.reference, str(record["incident"]["reference"])
    ):
        raise RecordMismatch("an amendment must keep the incident's LA code and reference")
    digest = content_sha256(record)
    if same_facts(session, keyring, incident, record, digest):
        current = session.get_one(IncidentVersion, (incident.id, incident.current_version))
        return VersionResult(incident, current, created=False)
    incident.current_version += 1
    incident.content_sha256 = digest
    incident.updated_at = utcnow()
    version = _write_version(session, keyring, incident, record, key_id, reason)
    session.flush()
    return VersionResult(incident, version, created=True)


def _same_reference(stored: str, given: str) -> bool:
    """``given`` (normalised on entry) names the incident stored under ``stored``: the same
    text, or the normal form of a reference stored before references were normalised (so an
    incident stored as ``REF\u20101`` can still be amended as ``REF-1``)."""
    if stored == given:
        return True
    try:
        return normalise_reference(stored) == given
    except ValueError:  # stored with an invisible character: only its stored text matches
        return False


def get_incident(session: Session, la_scope: str, incident_id: str) -> Incident | None:
    """The incident, or None when it does not exist or belongs to an LA outside the scope."""
    return session.scalars(
        scoped(select(Incident).where(Incident.id == incident_id), Incident.la_code, la_scope)
    ).one_or_none()


def get_incident_by_reference(
    session: Session, la_scope: str, la_code: str, reference: str
) -> Incident | None:
    """The incident of ``(la_code, reference)`` if the scope may see that LA."""
    if la_scope not in (ALL_LAS, la_code):
        return None
    return session.scalars(
        select(Incident).where(Incident.la_code == la_code, Incident.reference == reference)
    ).one_or_none()


def list_incidents(
    session: Session,
    la_scope: str,
    *,
    status: str | Sequence[str] | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Incident]:
    """Incidents in the scope, oldest first, keyset-paginated on ``(created_at, id)``."""
    size = page_size(limit)
    statement = scoped(select(Incident), Incident.la_code, la_scope)
    if status is not None:
        statement = statement.where(
            Incident.status.in_([status] if isinstance(status, str) else list(status))
        )
    if cursor is not None:
        created_at, last_id = decode_cursor("incidents", cursor, 2)
        statement = statement.where(
            after([Incident.created_at, Incident.id], [_parse_time(created_at), str(last_id)])
        )
    rows = session.scalars(
        statement.order_by(Incident.created_at, Incident.id).limit(size + 1)
    ).all()
    return page_from(rows, size, "incidents", lambda row: (row.created_at.isoformat(), row.id))


def _parse_time(value: str | int) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidCursor("the cursor is not one this service issued") from None


def set_incident_status(
    session: Session, la_scope: str, incident_id: str, status: str
) -> Incident | None:
    """Record what the rules decided (e.g. ``not_notifiable``); None when out of scope."""
    incident = get_incident(session, la_scope, incident_id)
    if incident is not None:
        incident.status = status
        incident.updated_at = utcnow()
    return incident


def list_versions(session: Session, la_scope: str, incident_id: str) -> list[IncidentVersion]:
    """Every version of the incident, oldest first (empty when out of scope)."""
    statement = (
        select(IncidentVersion)
        .join(Incident, Incident.id == IncidentVersion.incident_id)
        .where(IncidentVersion.incident_id == incident_id)
        .order_by(IncidentVersion.version)
    )
    return list(session.scalars(scoped(statement, Incident.la_code, la_scope)).all())


def version_record(keyring: Keyring, version: IncidentVersion) -> dict[str, Any]:
    """The decrypted record of one version."""
    record = open_json(keyring, version.payload, version_aad(version.incident_id, version.version))
    return dict(as_mapping(record, "incident version"))


def current_record(session: Session, keyring: Keyring, incident: Incident) -> dict[str, Any]:
    """The decrypted record of the incident's current version."""
    version = session.get_one(IncidentVersion, (incident.id, incident.current_version))
    return version_record(keyring, version)


def child_details(keyring: Keyring, child: Child) -> dict[str, Any]:
    """The decrypted personal details of one child."""
    details = open_json(
        keyring, child.details, child_aad(child.incident_id, child.version, child.index)
    )
    return dict(as_mapping(details, "child"))
