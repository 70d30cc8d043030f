"""Alerts: a delivery failed for good, or a deadline is at risk or passed (DESIGN.md §6).

Every alert is a structured log line, an ``alert.<kind>`` audit entry (counted by ``/metrics``
and listed on the admin pages), and, when ``CSINS_ALERT_WEBHOOK_URL`` is set, a JSON POST to it.
Alerts carry ids, documents, addressees and dates: never personal data.

The POST waits for the caller's transaction to commit: a slow webhook then never holds the row
locks of that transaction (nor SQLite's write lock), and an alert rolled back is never sent.
A webhook that cannot be reached, refuses the alert or is misconfigured is logged, and never
breaks the job that raised the alert: the alert is already recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import requests
from sqlalchemy import event
from sqlalchemy.orm import Session

from adapter.store import audit_log
from config.settings import Settings

ALERT_WEBHOOK_TIMEOUT = 5.0
"""Seconds to wait for the alert webhook; an alert that cannot be posted is still logged."""

DELIVERY_FAILED = "delivery_failed"
DEADLINE_AT_RISK = "deadline_at_risk"
DEADLINE_OVERDUE = "deadline_overdue"

_PENDING = "csins.alerts.pending"
"""``Session.info`` key of the webhook posts waiting for the transaction to commit."""

log = logging.getLogger("csins.alerts")


def raise_alert(
    session: Session,
    settings: Settings,
    kind: str,
    *,
    la_code: str,
    object_type: str,
    object_id: str | int,
    detail: Mapping[str, Any],
) -> None:
    """Record an alert in the caller's transaction and tell whoever is configured to listen."""
    facts = {
        "kind": kind,
        "la_code": la_code,
        "object_type": object_type,
        "object_id": str(object_id),
        **detail,
    }
    log.warning("alert %s", kind, extra={"alert": facts})
    audit_log.audit(
        session,
        action=f"alert.{kind}",
        la_code=la_code,
        actor_role="system",
        object_type=object_type,
        object_id=object_id,
        detail=dict(detail),
    )
    if settings.alert_webhook_url:
        _post_after_commit(session, settings.alert_webhook_url, facts)


def _post_after_commit(session: Session, url: str, facts: Mapping[str, Any]) -> None:
    pending: list[tuple[str, Mapping[str, Any]]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _post_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append((url, facts))


def _post_pending(session: Session) -> None:
    """Post the committed transaction's alerts. Runs inside ``commit()``: whatever goes wrong
    (no answer, a refusal, a malformed URL) is logged and swallowed, since the alert is already
    recorded and the job that raised it must go on."""
    pending: list[tuple[str, Mapping[str, Any]]] = session.info.get(_PENDING, [])
    posts, pending[:] = list(pending), []
    for url, facts in posts:
        _post(url, facts)


def _post(url: str, facts: Mapping[str, Any]) -> None:
    """POST one alert; the log names the error or status, never the URL or the alert."""
    try:
        response = requests.post(
            url, json=dict(facts), timeout=ALERT_WEBHOOK_TIMEOUT, allow_redirects=False
        )
    except Exception as error:  # whatever it is (a malformed URL included), the job goes on
        log.error(
            "alert %s not posted to the alert webhook: %s", facts["kind"], type(error).__name__
        )
        return
    if not 200 <= response.status_code < 300:
        log.warning(
            "alert %s refused by the alert webhook: it answered HTTP %d",
            facts["kind"],
            response.status_code,
        )


def _drop_pending(session: Session) -> None:
    pending: list[tuple[str, Mapping[str, Any]]] = session.info.get(_PENDING, [])
    pending.clear()
