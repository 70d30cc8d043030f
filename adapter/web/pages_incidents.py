"""Deadlines due soon and overdue (DESIGN.md §5), incidents, and one incident's timeline.

The pages show what was owed, sent and acknowledged, never a child's details: an incident is
named by its LA code and reference, and the record itself stays encrypted and unopened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, render_template, request
from sqlalchemy.orm import Session

from adapter.clock import london_today, utcnow
from adapter.deadlines import calendar_for, pending_from
from adapter.deadlines.status import london_date
from adapter.http.resources import resources
from adapter.http.views import incident_deliveries, obligation_view, timeline
from adapter.receipts.log import list_receipts
from adapter.store import events as event_store
from adapter.store import incidents as incident_store
from adapter.store import tracker as obligation_store
from adapter.store.crypto import Keyring
from adapter.store.models import IncidentRow
from adapter.store.pagination import MAX_PAGE_SIZE
from adapter.store.receipt_models import ReceiptRow
from adapter.store.tracker import MET_STATUSES
from adapter.web import queries, sessions
from adapter.web.blueprint import addressee_names, bp
from adapter.web.course import facts_of, layout
from adapter.web.filters import Filters
from config.settings import Policy
from schemas.codes import DOCUMENTS

DEADLINE_VIEWS = {
    "at_risk": "Due soon or overdue",
    "overdue": "Overdue",
    "open": "All open deadlines",
    "all": "All deadlines, met ones too",
}
"""The deadline page's views (the first is the default) and their names."""

OPEN_STATUSES = ("pending", "due_soon", "overdue")
"""Stored statuses of a deadline not yet met."""

INCIDENT_STATUSES = ("notifiable", "blocked", "not_notifiable", "referral", "received")
"""Incident statuses offered as a filter (others can be typed into the address)."""


def due_soon_cutoff(today: dt.date, policy: Policy) -> dt.date:
    """The last due day that counts as due soon today (DESIGN.md §5: 2 working days, policy),
    a weekend or holiday after the last of those working days included."""
    calendar = calendar_for(policy)
    return pending_from(today, calendar, policy.due_soon_working_days) - dt.timedelta(days=1)


@bp.route("/deadlines")
@sessions.signed_in()
def deadlines() -> str:
    """Open deadlines, soonest first, each with its status now and its explanation."""
    res, who, filters, now = resources(), sessions.principal(), Filters(), utcnow()
    view = filters.choice("show", tuple(DEADLINE_VIEWS), "at_risk")
    addressee = filters.text("addressee")
    document = filters.choice("document", ("", *DOCUMENTS), "") or None
    today = london_today(now)
    status: tuple[str, ...] | None = None if view == "all" else OPEN_STATUSES
    due_by = {
        "at_risk": due_soon_cutoff(today, res.settings.policy),
        "overdue": today - dt.timedelta(days=1),
    }.get(view)
    with res.transaction() as db:
        page = obligation_store.list_deadlines(
            db,
            who.la_scope,
            status=status,
            addressee=addressee,
            document=document,
            due_on_or_before=due_by,
            cursor=request.args.get("cursor") or None,
            limit=filters.limit(),
        )
        rows = [obligation_view(row, now, res.settings.policy) for row in page.items]
        references = queries.incident_references(
            db, who.la_scope, [row["incident_id"] for row in rows]
        )
    return render_template(
        "admin/deadlines.html",
        title="Deadlines",
        rows=rows,
        references=references,
        filters=filters,
        views=list(DEADLINE_VIEWS.items()),
        view_name=DEADLINE_VIEWS[view],
        documents=DOCUMENTS,
        due_soon_days=res.settings.policy.due_soon_working_days,
        next_url=filters.next_page_url(page.next),
        first_url=filters.first_page_url(),
    )


@bp.route("/incidents")
@sessions.signed_in()
def incidents() -> str:
    """Incidents of the key's scope, oldest first, by status or reference."""
    res, who, filters = resources(), sessions.principal(), Filters()
    status = filters.choice("status", ("", *INCIDENT_STATUSES), "") or None
    reference = filters.text("reference")
    next_url = None
    with res.transaction() as db:
        if reference:
            rows = queries.incidents_by_reference(db, who.la_scope, reference)
        else:
            page = incident_store.list_incidents(
                db,
                who.la_scope,
                status=status,
                cursor=request.args.get("cursor") or None,
                limit=filters.limit(),
            )
            rows, next_url = page.items, filters.next_page_url(page.next)
    return render_template(
        "admin/incidents.html",
        title="Incidents",
        rows=rows,
        filters=filters,
        statuses=INCIDENT_STATUSES,
        next_url=next_url,
        first_url=filters.first_page_url(),
    )


@bp.route("/incidents/<incident_id>")
@sessions.signed_in()
def incident(incident_id: str) -> str:
    """One incident: its deadlines, deliveries, receipts and everything in the order it happened."""
    res, who, now = resources(), sessions.principal(), utcnow()
    with res.transaction() as db:
        found = incident_store.get_incident(db, who.la_scope, incident_id)
        if found is None:
            abort(404)
        deliveries = incident_deliveries(db, found)
        receipts = list_receipts(db, who.la_scope, incident_id=found.id, limit=MAX_PAGE_SIZE).items
        obligations = [
            obligation_view(row, now, res.settings.policy)
            for row in obligation_store.list_obligations(db, who.la_scope, found.id)
        ]
        entries = timeline(db, found, deliveries)
        receipt_of = {receipt.delivery_id: receipt for receipt in receipts}
        facts = facts_of(
            became_aware_on=_became_aware_on(db, res.database.keyring, found),
            events=event_store.list_events(db, who.la_scope, found.id),
            obligations=obligations,
            deliveries=deliveries,
            receipts=receipt_of,
            names=addressee_names(),
            to_day=london_date,
        )
        drawn = layout(facts, london_today(now))
        entries += [_receipt_entry(receipt) for receipt in receipts]
        entries.sort(key=lambda entry: entry["at"])
        rows = [
            {
                "delivery": delivery,
                "receipt": receipt_of.get(delivery.id),
                "attempts": list(delivery.attempt_log),
            }
            for delivery in deliveries
        ]
        return render_template(
            "admin/incident.html",
            title=f"Incident {found.reference}",
            incident=found,
            obligations=obligations,
            deliveries=rows,
            entries=entries,
            met_statuses=MET_STATUSES,
            course=drawn,
            printed_at=now,
        )


def _became_aware_on(db: Session, keyring: Keyring, incident: IncidentRow) -> dt.date | None:
    """The day the LA became aware (§2), the one fact of the record the course shows: the
    record is decrypted here and only this date leaves the function, so the page still shows
    nothing of the child."""
    try:
        value = incident_store.current_record(db, keyring, incident)["incident"]["became_aware_on"]
        return dt.date.fromisoformat(str(value))
    except (KeyError, TypeError, ValueError):
        return None


def _receipt_entry(receipt: ReceiptRow) -> dict[str, Any]:
    return {
        "at": receipt.created_at,
        "kind": "receipt",
        "receipt_id": receipt.id,
        "summary": f"receipt {receipt.sequence} signed: {receipt.document} to "
        f"{receipt.addressee}" + ("" if receipt.on_time else " (late)"),
    }
