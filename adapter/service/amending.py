"""Amend an incident: a new version of its record, sent to every addressee already notified (§2).

Only a ``local_authority`` key amends (DESIGN.md §7). An agency's referral not yet notified is
amended without sending anything: nothing was sent for it (§3).
"""

from __future__ import annotations

from typing import Any

from adapter.clock import london_today
from adapter.service import deliveries_owed as owed_deliveries
from adapter.service.case_changes import CaseChange
from adapter.service.casework import validate_record
from adapter.service.replanning import REFERRAL_STATUS, CurrentRecord, replan
from adapter.service.roles import require_local_authority
from adapter.store import incident_versions
from adapter.store.models import DeliveryRow, IncidentRow


def amend(
    change: CaseChange, incident_id: str, data: Any
) -> tuple[IncidentRow, bool, list[DeliveryRow]] | None:
    """§2: a new version of the record; amendments go to every addressee already notified.

    None when the incident is not visible to the caller. The boolean says whether a version was
    created (False when the content equals the current version).
    """
    principal, session, keyring = change.principal, change.session, change.keyring
    require_local_authority(principal, "amend incidents")
    loaded, record_json = validate_record(data, london_today(change.now))
    # add_version reads the incident under a row lock: it must be the first to load it in this
    # session, or a concurrent amendment's version would not be seen (the identity map keeps
    # what was read before the lock).
    result = incident_versions.add_version(
        session,
        keyring,
        la_scope=principal.la_scope,
        incident_id=incident_id,
        record=record_json,
        key_id=principal.key_id,
    )
    if result is None:
        return None
    incident = result.incident
    if not result.created:
        return incident, False, []
    previous = incident.current_version - 1
    deliveries: list[DeliveryRow] = []
    if incident.status != REFERRAL_STATUS:
        deliveries = owed_deliveries.queue_amendments(
            session, keyring, incident, record_json, amended_from=previous
        )
        current = CurrentRecord(record_json, loaded)
        planned = replan(session, keyring, change.policy, incident, change.now, current=current)
        deliveries += change.queue_owed(incident, planned)
    change.audit(
        "incident.amended",
        incident,
        {"version": incident.current_version, "deliveries": len(deliveries)},
    )
    return incident, True, deliveries
