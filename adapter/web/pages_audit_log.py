"""The audit log (who did what to which object), filtered by action and date, newest first.

Lines hold ids, counts and codes, never personal data (``adapter.store.audit_log``), so the page can
show every line of the key's scope. Lines without an LA (operator actions, all-LA admins'
sign-ins) are shown to all-LA admins only.
"""

from __future__ import annotations

import json
from typing import Any

from flask import render_template, request

from adapter.http.resources import resources
from adapter.store.audit_log import list_audit
from adapter.web import sessions
from adapter.web.blueprint import bp
from adapter.web.filters import Filters, london_day_end, london_midnight

KNOWN_ACTIONS = (
    "incident.created",
    "incident.amended",
    "event.recorded",
    "referral.created",
    "delivery.retried",
    "receipt.downloaded",
    "alert.delivery_failed",
    "alert.deadline_at_risk",
    "alert.deadline_overdue",
    "web.signed_in",
    "web.signed_out",
)
"""Actions suggested in the filter (any action can be typed)."""


@bp.route("/audit")
@sessions.signed_in()
def audit() -> str:
    """Audit lines of the key's scope, newest first."""
    res, who, filters = resources(), sessions.principal(), Filters()
    action = filters.text("action")
    date_from = filters.date("from", "The 'from' date")
    date_to = filters.date("to", "The 'to' date")
    if date_from and date_to and date_to < date_from:
        filters.errors.append(("to", "The 'to' date must be the same as or after the 'from' date"))
        date_to = None
    with res.transaction() as db:
        page = list_audit(
            db,
            who.la_scope,
            action=action,
            at_from=london_midnight(date_from) if date_from else None,
            at_before=london_day_end(date_to) if date_to else None,
            cursor=request.args.get("cursor") or None,
            limit=filters.limit(),
        )
        rows = [_line(entry) for entry in page.items]
    return render_template(
        "admin/audit.html",
        title="Audit log",
        rows=rows,
        filters=filters,
        actions=KNOWN_ACTIONS,
        next_url=filters.next_page_url(page.next),
        first_url=filters.first_page_url(),
    )


def _line(entry: Any) -> dict[str, Any]:
    detail = entry.detail or {}
    return {
        "at": entry.at,
        "action": entry.action,
        "role": entry.actor_role,
        "key_id": entry.key_id,
        "la_code": entry.la_code,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "detail": ", ".join(
            f"{key}: {json.dumps(value, ensure_ascii=False)}"
            for key, value in sorted(detail.items())
        ),
    }
