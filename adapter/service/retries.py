"""An admin's retry of a failed delivery (DESIGN.md §6: nothing is dropped, a failure stays
visible until someone sends it again), audited with who asked and from where."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from adapter.store import audit_log
from adapter.store import outbox as outbox_store
from adapter.store.api_keys import Principal
from adapter.store.models import DeliveryRow


def retry_delivery(
    session: Session, principal: Principal, delivery_id: str, *, via: str | None = None
) -> tuple[DeliveryRow, bool] | None:
    """§6, nothing is dropped: queue a failed delivery to be sent again, and audit who did.

    The row is locked from the first read, so of two admins retrying at once the second sees it
    queued. Returns the delivery and whether it was retried (only a ``failed`` one is); None
    when it is not visible to the caller. ``via`` names where the retry came from, for the audit
    line. Its job is published once the transaction commits (:mod:`adapter.store.publishing`).
    """
    delivery = outbox_store.get_delivery(session, principal.la_scope, delivery_id, for_update=True)
    if delivery is None:
        return None
    if delivery.status != "failed":
        return delivery, False
    outbox_store.retry_delivery(session, principal.la_scope, delivery_id)
    detail: dict[str, Any] = {"attempts": delivery.attempts}
    if via is not None:
        detail["via"] = via
    audit_log.audit_by(
        session,
        principal,
        "delivery.retried",
        la_code=delivery.la_code,
        object_type="delivery",
        object_id=delivery.id,
        detail=detail,
    )
    return delivery, True
