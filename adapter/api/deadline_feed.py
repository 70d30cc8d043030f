"""``GET /api/v1/deadlines.ics``: the LA's open deadlines as a calendar feed (issue 18).

A calendar client subscribes to the feed URL; it cannot send ``Authorization: Bearer``, so the
URL may carry a feed token instead (``?token=csinsfeed_…``, made by an admin on the calendar
feeds page or with ``csins-adapter feeds create``), which reads this feed of one LA and nothing
else. A bearer key of a reading role works as on ``GET /deadlines``. Either way the feed lists
what ``GET /deadlines`` lists as pending, due soon or overdue in the caller's LA.
"""

from __future__ import annotations

from flask import Response, request, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from adapter.api.auth import READERS, authenticate
from adapter.api.spec import problem_responses
from adapter.clock import utcnow
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.reminders import facts, ics
from adapter.store import feed_tokens

blp = Blueprint(
    "deadline_feed",
    __name__,
    url_prefix="/api/v1",
    description="Open deadlines as a calendar feed (iCalendar) for calendar clients",
)

ICS_MEDIA_TYPE = "text/calendar"


class FeedQuerySchema(Schema):
    token = fields.String(
        load_default=None,
        metadata={"description": "A calendar feed token, for clients that cannot send a key"},
    )


@blp.route("/deadlines.ics", methods=["GET"])
@blp.arguments(FeedQuerySchema, location="query", as_kwargs=True)
@blp.doc(
    security=[{"bearer": []}, {}],
    responses={
        "200": {
            "description": "An iCalendar feed: one all-day event per open deadline",
            "content": {ICS_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
@problem_responses(
    (401, "No API key and no feed token, or one that is not valid or has been revoked"),
    (403, f"A key of another role (this needs one of: {', '.join(READERS)})"),
)
def deadline_feed(token: str | None) -> Response:
    """Every open deadline of the caller's LA as an all-day event on its due day.

    Titled with document, addressee and incident reference (never a child's name), the
    explanation in the description; UIDs are stable and ``SEQUENCE`` rises when a deadline's
    status or due day changes.
    """
    la_scope = _feed_scope(token)
    res, now = resources(), utcnow()
    names = facts.addressee_names(res.settings.addressees)
    with res.transaction() as session:
        found = facts.open_deadlines(session, la_scope, now, res.settings.policy, names)
    label = "every local authority" if la_scope == "*" else f"local authority {la_scope}"
    body = ics.build_feed(
        found,
        name=f"Safeguarding deadlines, {label}",
        now=now,
        incident_url=lambda incident_id: url_for(
            "admin.incident", incident_id=incident_id, _external=True
        ),
    )
    response = Response(body, mimetype=ICS_MEDIA_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _feed_scope(token: str | None) -> str:
    """The LA scope of the caller: a bearer key of a reading role, else a feed token."""
    if request.headers.get("Authorization") or token is None:
        principal = authenticate()
        if principal.role not in READERS:
            raise ApiProblem(
                403,
                "forbidden",
                f"a '{principal.role}' key cannot do this; it needs one of: {', '.join(READERS)}",
            )
        return principal.la_scope
    with resources().database.autocommit_scope() as session:
        reader = feed_tokens.verify_token(session, token)
    if reader is None:
        raise ApiProblem(401, "unauthenticated", "the feed token is not valid or has been revoked")
    return reader.la_scope
