"""What every change to an incident shares: who makes it, in which transaction and when
(:class:`CaseChange`); the deliveries its new plan owes, queued; and its line in the audit log.

Submitting (:mod:`adapter.service.casework`), amending (:mod:`adapter.service.amending`) and
recording an event (:mod:`adapter.service.event_recording`) each re-plan the incident and then
end the same way, through a :class:`CaseChange`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from adapter.apikeys import Principal
from adapter.crypto import Keyring
from adapter.service import outbox as owed_deliveries
from adapter.service.planning import Replanned, status_of
from adapter.store import audit as audit_log
from adapter.store.models import Delivery, Incident
from config.settings import Policy


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One change to an incident: the caller's transaction and keyring, the deadlines policy,
    the key making the change, and when (what each use case on an incident takes)."""

    session: Session
    keyring: Keyring
    policy: Policy
    principal: Principal
    now: dt.datetime

    def queue_owed(
        self, incident: Incident, planned: Replanned, *, new: bool = False
    ) -> list[Delivery]:
        """The deliveries the incident's new plan calls for and does not have yet (``new``: the
        incident was created in this transaction, so it has none). An obligation a new document
        is queued for may be owed afresh (a changed decision): its status is reckoned again."""
        owed = {(o.document, o.addressee): o for o in planned.plan.obligations}
        queued = owed_deliveries.queue_owed(
            self.session,
            self.keyring,
            incident,
            # Only what the plan owes now: a row kept because it was met (a final report before
            # the mode changed to improvements only) is history, not something to send again.
            [row for row in planned.obligations if (row.document, row.addressee) in owed],
            planned.record_json,
            planned.events_json,
            new=new,
        )
        if new:
            return queued
        for delivery in queued:
            row = delivery.obligation
            if row is not None and (row.document, row.addressee) in owed:
                owing = owed[(row.document, row.addressee)]
                row.status = status_of(owing, row, self.now, self.policy)
        return queued

    def audit(self, action: str, incident: Incident, detail: Mapping[str, Any]) -> None:
        """The change's line in the audit log, by the key that made it."""
        audit_log.audit_by(
            self.session,
            self.principal,
            action,
            la_code=incident.la_code,
            object_type="incident",
            object_id=incident.id,
            detail=detail,
        )
