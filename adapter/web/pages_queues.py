"""The dashboard (queues per addressee, worker heartbeats) and deliveries, with retry by hand.

A retry is only for a ``failed`` delivery and only for an admin (DESIGN.md §7: compliance is
read-only). It is written to the audit log in the same transaction as the status change, then
published best-effort after the commit: if Redis is down the sweeper finds the queued row later
(DESIGN.md §2).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapter.clock import london_today, utcnow
from adapter.http.resources import resources
from adapter.http.views import delivery_view
from adapter.service import retries
from adapter.store import outbox
from adapter.store.pagination import Page
from adapter.web import formatting, queries, sessions
from adapter.web.blueprint import addressee_names, bp
from adapter.web.filters import Filters, london_midnight
from adapter.web.workers import worker_beats

DELIVERY_FILTERS = ("failed", "retrying", "queued", "sending", "acknowledged", "all")
"""The status filter of the deliveries page: failed first, the ones that need a person."""


@bp.route("/")
@sessions.signed_in()
def dashboard() -> str:
    """Each addressee's queue, and whether the workers are alive."""
    res, now = resources(), utcnow()
    who = sessions.principal()
    with res.transaction() as db:
        summaries = queries.queue_summaries(
            db, who.la_scope, res.settings.addressees, london_midnight(london_today(now))
        )
    beats = worker_beats(res.settings, now)
    return render_template(
        "admin/dashboard.html",
        title="Dashboard",
        summaries=summaries,
        beats=beats,
        now=now,
        age=lambda moment: formatting.age(moment, now),
    )


@bp.route("/deliveries")
@sessions.signed_in()
def deliveries() -> str:
    """Deliveries filtered by status (failed by default), addressee and incident."""
    res, who, filters = resources(), sessions.principal(), Filters()
    status = filters.choice("status", DELIVERY_FILTERS, "failed")
    addressee = filters.text("addressee")
    incident = filters.text("incident")
    delivery_id = filters.text("delivery")
    with res.transaction() as db:
        if delivery_id:
            one = outbox.get_delivery(db, who.la_scope, delivery_id)
            page = Page([one] if one is not None else [], None)
        else:
            page = outbox.list_deliveries(
                db,
                who.la_scope,
                incident_id=incident,
                addressee=addressee,
                status=None if status == "all" else status,
                cursor=request.args.get("cursor") or None,
                limit=filters.limit(),
            )
        rows = [
            dict(delivery_view(row), updated_at=row.updated_at, last_response=row.last_response)
            for row in page.items
        ]
        references = queries.incident_references(
            db, who.la_scope, [row["incident_id"] for row in rows]
        )
    return render_template(
        "admin/deliveries.html",
        title="Delivery" if delivery_id else _deliveries_title(status),
        rows=rows,
        references=references,
        filters=filters,
        statuses=DELIVERY_FILTERS,
        next_url=filters.next_page_url(page.next),
        first_url=filters.first_page_url(),
        can_retry=who.role == "admin",
    )


@bp.route("/deliveries/<delivery_id>/retry", methods=["POST"])
@sessions.signed_in("admin")
def retry(delivery_id: str) -> Response:
    """Queue a failed delivery again, audit it, and put it on the worker queue if Redis answers."""
    res = resources()
    with res.transaction() as db:
        done = retries.retry_delivery(db, sessions.principal(), delivery_id, via="admin pages")
        if done is None:
            abort(404)
        delivery, retried = done
        summary = (
            f"{formatting.words(delivery.document)} to "
            f"{addressee_names().get(delivery.addressee, delivery.addressee)}"
        )
        if not retried:
            flash(
                f"{summary} was not retried: it is {delivery.status}, and only a failed "
                "delivery can be retried.",
                "info",
            )
            return _back()
    # Its job is published once the transaction has committed (adapter.store.publishing).
    flash(f"{summary} is queued to be sent again.", "success")
    return _back()


def _back() -> Response:
    target = sessions.safe_next(request.form.get("next"))
    return redirect(target or url_for("admin.deliveries"))


def _deliveries_title(status: str) -> str:
    return "All deliveries" if status == "all" else f"{formatting.words(status)} deliveries"
