"""``/api/v1/deadlines`` and ``/api/v1/plan``: what is owed, by when (DESIGN.md §5, §7)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.bodies import JSON_BODY_PROBLEMS, checked_cursor, deadline_cursor_key, json_body
from adapter.api.spec import BAD_CURSOR, problem_responses
from adapter.clock import london_today, utcnow
from adapter.deadlines import calendar_for, load_plan_input, pending_from, plan_incident
from adapter.http.resources import resources
from adapter.http.views import obligation_view
from adapter.store import tracker as obligation_store
from adapter.store.tracker import LiveDay
from schemas.api import DeadlineListSchema, DeadlineQuerySchema, PlanInputSchema, PlanSchema

blp = Blueprint(
    "deadlines",
    __name__,
    url_prefix="/api/v1",
    description="Deadlines of every addressee, and dry-run planning",
)

_PLAN_BODY = {"required": True, "content": {"application/json": {"schema": PlanInputSchema}}}


@blp.route("/deadlines", methods=["GET"])
@blp.arguments(DeadlineQuerySchema, location="query", as_kwargs=True)
@blp.response(200, DeadlineListSchema)
@problem_responses(BAD_CURSOR)
@requires(*READERS)
def list_deadlines(
    status: str | None,
    addressee: str | None,
    document: str | None,
    incident: str | None,
    cursor: str | None,
    limit: int | None,
) -> Any:
    """Every obligation of the caller's LA, soonest due first, filtered and paginated.

    ``status`` filters on each deadline's status at the moment of the request, the status each
    item shows (not the one the deadline job last stored, which can be minutes old).
    """
    res, now = resources(), utcnow()
    policy, today = res.settings.policy, london_today(now)
    live = LiveDay(today, pending_from(today, calendar_for(policy), policy.due_soon_working_days))
    with res.transaction() as session:
        page = obligation_store.list_deadlines(
            session,
            principal().la_scope,
            status=status,
            addressee=addressee,
            document=document,
            incident_id=incident,
            cursor=checked_cursor("deadlines", cursor, deadline_cursor_key),
            limit=limit,
            now=live,
        )
        items = [obligation_view(row, now, policy) for row in page.items]
    return {"items": items, "next": page.next}


@blp.route("/plan", methods=["POST"])
@blp.doc(requestBody=_PLAN_BODY)
@blp.response(200, PlanSchema)
@problem_responses(
    *JSON_BODY_PROBLEMS,
    (422, "The record or an event failed validation, or a date is outside the known calendar"),
)
@requires("local_authority", "agency", "admin", "compliance")
def plan() -> Any:
    """Dry run: what the record (and its events) would oblige; nothing is stored or sent.

    The same JSON as ``csins-adapter plan``: a future ``became_aware_on`` is a warning here.
    """
    record, events = load_plan_input(json_body())
    now = utcnow()
    return plan_incident(
        record, events, resources().settings.policy, today=london_today(now)
    ).to_json_dict()
