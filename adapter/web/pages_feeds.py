"""Calendar feeds (issue 18): admins create and revoke the tokens that let a person's calendar
read their LA's open deadlines (``GET /api/v1/deadlines.ics?token=…``).

A new token's address is shown once, in the answer to the form that made it, never in a flash
message (the session cookie is signed, not encrypted) nor anywhere else afterwards: only its
prefix and hash are stored (:mod:`adapter.store.feed_tokens`). Creating and revoking are audited.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from adapter.http.resources import resources
from adapter.store import audit_log, feed_tokens
from adapter.store.access_models import ALL_LAS
from adapter.web import sessions
from adapter.web.blueprint import bp


@bp.route("/calendar-feeds")
@sessions.signed_in()
def calendar_feeds() -> str:
    """The scope's feed tokens and, for admins, the form that makes one."""
    return _page()


@bp.route("/calendar-feeds", methods=["POST"])
@sessions.signed_in("admin")
def create_calendar_feed() -> tuple[str, int] | str:
    """Make a token for the label (and LA) given; show its address once."""
    who = sessions.principal()
    label = request.form.get("label", "")
    la_code = who.la_code if who.la_code != ALL_LAS else request.form.get("la", "").strip()
    try:
        with resources().transaction() as db:
            made = feed_tokens.create_token(
                db, la_code=la_code, label=label, created_by_key_id=who.key_id
            )
            audit_log.audit_by(
                db,
                who,
                "feed_token.created",
                la_code=made.la_code,
                object_type="feed_token",
                object_id=made.prefix,
            )
    except feed_tokens.FeedTokenError as error:
        field = "la" if str(error).startswith("la") else "label"
        return _page(errors={field: str(error).split(": ", 1)[-1]}, label=label, la=la_code), 400
    feed_url = url_for("deadline_feed.deadline_feed", token=made.token, _external=True)
    return _page(new_feed={"label": made.label, "la_code": made.la_code, "url": feed_url})


@bp.route("/calendar-feeds/<prefix>/revoke", methods=["POST"])
@sessions.signed_in("admin")
def revoke_calendar_feed(prefix: str) -> Response:
    """Revoke one token of the scope: the calendar stops updating at its next fetch."""
    who = sessions.principal()
    with resources().transaction() as db:
        row = feed_tokens.revoke_token(db, prefix, who.la_scope)
        if row is None:
            abort(404)
        audit_log.audit_by(
            db,
            who,
            "feed_token.revoked",
            la_code=row.la_code,
            object_type="feed_token",
            object_id=row.prefix,
        )
        label = row.label
    flash(f"The calendar feed for {label} is revoked.", "success")
    return redirect(url_for("admin.calendar_feeds"))


def _page(**extra: object) -> str:
    who = sessions.principal()
    with resources().transaction() as db:
        tokens = feed_tokens.list_tokens(db, who.la_scope)
        rows = [
            {
                "prefix": row.prefix,
                "la_code": row.la_code,
                "label": row.label,
                "created_at": row.created_at,
                "last_used_at": row.last_used_at,
                "revoked": row.revoked_at is not None,
            }
            for row in tokens
        ]
    return render_template(
        "admin/calendar_feeds.html",
        title="Calendar feeds",
        rows=rows,
        can_create=who.role == "admin",
        all_las=who.la_code == ALL_LAS,
        errors=extra.pop("errors", {}),
        **extra,
    )
