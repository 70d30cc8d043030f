"""Submissions to make: the ``csins`` channel's tasks for a person (DESIGN.md §6).

A notification routed to ``csins`` is made by a person on the national online service. These
pages list the open tasks by due date with their deadline status, lay each notification out as
the online service asks for it (every answer with a copy button, printable), and record the
submission made: the service's confirmation reference, who submitted it and when. Recording it
acknowledges every delivery the submission covers, with its receipt (:mod:`adapter.service.
assisted`). A task page shows a child's details, so only an admin opens it, and each opening is
written to the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapter.clock import LONDON, utcnow
from adapter.deadlines import calendar_for, deadline_status
from adapter.http.resources import resources
from adapter.service import assisted, delivering
from adapter.store import assisted as assisted_store
from adapter.store import audit_log, outbox
from adapter.store.models import DeliveryAttemptRow
from adapter.web import sessions
from adapter.web.blueprint import addressee_names, bp
from adapter.web.submission_form import sections


@bp.route("/submissions")
@sessions.signed_in()
def submissions_to_make() -> str:
    """Open assisted submissions, the earliest due first, with each one's deadline status."""
    res, who, now = resources(), sessions.principal(), utcnow()
    with res.transaction() as db:
        tasks = [
            {"task": task, "status": _status(task.due, now)}
            for task in assisted_store.open_tasks(db, who.la_scope)
        ]
    return render_template(
        "admin/submissions.html",
        title="Submissions to make",
        tasks=tasks,
        can_record=who.role == "admin",
    )


@bp.route("/submissions/<delivery_id>", methods=["GET", "POST"])
@sessions.signed_in("admin")
def submission(delivery_id: str) -> Any:
    """One submission to make: the notification as the online service asks it, and the form
    recording the submission made."""
    res, who, now = resources(), sessions.principal(), utcnow()
    errors: list[tuple[str, str]] = []
    values = {
        "reference": "",
        "submitted_by": "",
        "submitted_on": now.astimezone(LONDON).date().isoformat(),
        "submitted_time": now.astimezone(LONDON).strftime("%H:%M"),
    }
    if request.method == "POST":
        values.update({name: request.form.get(name, "").strip() for name in values})
        confirmation, errors = _confirmation(values, now)
        if confirmation is not None:
            return _record(delivery_id, confirmation)
    with res.transaction() as db:
        delivery = outbox.get_delivery(db, who.la_scope, delivery_id)
        if delivery is None:
            abort(404)
        task = assisted_store.task_of(db, who.la_scope, delivery, lock=False)
        if not task.deliveries:
            flash("This submission has been recorded already.", "info")
            return redirect(url_for("admin.incident", incident_id=delivery.incident_id))
        attempt = DeliveryAttemptRow(delivery_id=delivery.id, number=delivery.attempts)
        started = delivering.started_for(res.keyring, delivery, attempt, task.incident_reference)
        if started.message is None:
            abort(500)
        laid_out = sections(started.message.payload)
        audit_log.audit_by(
            db,
            who,
            "submission.viewed",
            la_code=delivery.la_code,
            object_type="delivery",
            object_id=delivery.id,
        )
        names = addressee_names()
        context = {
            "task": task,
            "status": _status(task.due, now),
            "sections": laid_out,
            "reaches": [names.get(d.addressee, d.addressee) for d in task.deliveries],
            "service_url": res.routes.service_url(delivery.addressee),
            "amends": started.message.payload.get("amends_version"),
        }
    return render_template(
        "admin/submission.html",
        title=f"Submission to make: {task.incident_reference}",
        errors=errors,
        field_errors=dict(errors),
        values=values,
        delivery_id=delivery_id,
        page_has_errors=bool(errors),
        **context,
    ), (400 if errors else 200)


def _record(delivery_id: str, confirmation: assisted.Confirmation) -> Response:
    res, who, now = resources(), sessions.principal(), utcnow()
    with res.transaction() as db:
        delivery = outbox.get_delivery(db, who.la_scope, delivery_id)
        if delivery is None:
            abort(404)
        recording = assisted.record_confirmation(
            db,
            res.keyring,
            res.settings,
            res.signer(),
            who,
            delivery_id,
            confirmation,
            destination=res.routes.service_url(delivery.addressee),
            now=now,
            via="admin pages",
        )
        incident_id = delivery.incident_id
    if recording.result is assisted.Result.CONFLICT:
        flash(f"The submission was not recorded: {recording.reason}.", "info")
        return redirect(url_for("admin.submissions_to_make"))
    names = addressee_names()
    reached = ", ".join(names.get(d.addressee, d.addressee) for d in recording.deliveries)
    flash(
        f"Submission {confirmation.reference} recorded: delivered to {reached}, "
        "with a receipt for each.",
        "success",
    )
    return redirect(url_for("admin.incident", incident_id=incident_id))


def _confirmation(
    values: dict[str, str], now: dt.datetime
) -> tuple[assisted.Confirmation | None, list[tuple[str, str]]]:
    """The form's confirmation, or the errors naming each field wrong."""
    errors: list[tuple[str, str]] = []
    if not values["reference"]:
        errors.append(("reference", "Enter the confirmation reference the online service gave"))
    if not values["submitted_by"]:
        errors.append(("submitted_by", "Enter who made the submission"))
    submitted_at = None
    try:
        day = dt.date.fromisoformat(values["submitted_on"])
        time = dt.time.fromisoformat(values["submitted_time"])
        submitted_at = dt.datetime.combine(day, time, tzinfo=LONDON)
    except ValueError:
        errors.append(("submitted_on", "Enter the date as YYYY-MM-DD and the time as HH:MM"))
    if errors or submitted_at is None:
        return None, errors
    confirmation = assisted.Confirmation(values["reference"], values["submitted_by"], submitted_at)
    for field, message in assisted.check_confirmation(confirmation, now):
        errors.append(("submitted_on" if field == "submitted_at" else field, _sentence(message)))
    return (None, errors) if errors else (confirmation, [])


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def _status(due: dt.date | None, now: dt.datetime) -> str | None:
    if due is None:
        return None
    policy = resources().settings.policy
    return deadline_status(
        due,
        now,
        None,
        calendar=calendar_for(policy),
        due_soon_working_days=policy.due_soon_working_days,
    )
