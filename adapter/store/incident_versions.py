"""The versions of an incident's record: version 1 on submission, the next on amendment (§2).

Each version is sealed (encrypted, bound to its incident and number) and its children are
written with it; the record's hash says at once whether a resubmission or amendment says
anything new, and :func:`same_facts` settles it when the hashes differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.store.crypto import Keyring
from adapter.store.errors import RecordMismatch
from adapter.store.incidents import current_record, scoped_incident
from adapter.store.models import ChildRow, IncidentRow, IncidentVersionRow
from adapter.store.sealing import as_mapping, canonical_json, child_aad, seal_json, version_aad
from schemas.incident import normalise_postcode
from schemas.references import normalise_reference


@dataclass(frozen=True)
class VersionResult:
    """An amendment's version; ``created`` is False when the content equals the current version."""

    incident: IncidentRow
    version: IncidentVersionRow
    created: bool


def content_sha256(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical JSON: equal records, equal hashes."""
    return hashlib.sha256(canonical_json(record)).hexdigest()


def same_facts(
    session: Session,
    keyring: Keyring,
    incident: IncidentRow,
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


def write_version(
    session: Session,
    keyring: Keyring,
    incident: IncidentRow,
    record: Mapping[str, Any],
    key_id: int | None,
    reason: str,
    *,
    new: bool = False,
) -> IncidentVersionRow:
    """Add version ``incident.current_version`` and make its children the incident's children
    (``new``: the incident was inserted in this transaction, so it has no children to drop)."""
    number = incident.current_version
    version = IncidentVersionRow(
        incident_id=incident.id,
        version=number,
        reason=reason,
        created_by_key_id=key_id,
        payload=seal_json(keyring, record, version_aad(incident.id, number)),
        payload_sha256=incident.content_sha256,
    )
    session.add(version)
    if not new:
        session.execute(delete(ChildRow).where(ChildRow.incident_id == incident.id))
        session.expire(incident, ["children"])
    for index, child in enumerate(record.get("children") or ()):
        child = as_mapping(child, f"children[{index}]")
        session.add(
            ChildRow(
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
        scoped_incident(la_scope, incident_id).with_for_update(key_share=True)
    ).one_or_none()
    if incident is None:
        return None
    if str(record["local_authority"]["code"]) != incident.la_code or not _same_reference(
        incident.reference, str(record["incident"]["reference"])
    ):
        raise RecordMismatch("an amendment must keep the incident's LA code and reference")
    digest = content_sha256(record)
    if same_facts(session, keyring, incident, record, digest):
        current = session.get_one(IncidentVersionRow, (incident.id, incident.current_version))
        return VersionResult(incident, current, created=False)
    incident.current_version += 1
    incident.content_sha256 = digest
    incident.updated_at = utcnow()
    version = write_version(session, keyring, incident, record, key_id, reason)
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
