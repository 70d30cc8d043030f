"""``/api/v1/deliveries``: the outbox as admins see it, and retrying a failed delivery by hand."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.bodies import checked_cursor, delivery_cursor_key
from adapter.api.problems import ApiProblem
from adapter.api.resources import resources
from adapter.api.spec import BAD_CURSOR, problem_responses
from adapter.api.views import delivery_view
from adapter.service import retries
from adapter.store import outbox
from schemas.api import DeliveryListSchema, DeliveryQuerySchema, DeliverySchema

blp = Blueprint(
    "deliveries",
    __name__,
    url_prefix="/api/v1",
    description="Deliveries to the addressees, with retry of failed ones",
)


@blp.route("/deliveries", methods=["GET"])
@blp.arguments(DeliveryQuerySchema, location="query", as_kwargs=True)
@blp.response(200, DeliveryListSchema)
@problem_responses(BAD_CURSOR)
@requires(*READERS)
def list_deliveries(
    incident: str | None,
    addressee: str | None,
    status: str | None,
    cursor: str | None,
    limit: int | None,
) -> Any:
    """Deliveries of the caller's LA, oldest first (filters: incident, addressee, status)."""
    with resources().transaction() as session:
        page = outbox.list_deliveries(
            session,
            principal().la_scope,
            incident_id=incident,
            addressee=addressee,
            status=status,
            cursor=checked_cursor("deliveries", cursor, delivery_cursor_key),
            limit=limit,
        )
        return {"items": [delivery_view(row) for row in page.items], "next": page.next}


@blp.route("/deliveries/<delivery_id>/retry", methods=["POST"])
@blp.response(202, DeliverySchema)
@problem_responses(
    (404, "No such delivery visible to this key"),
    (409, "The delivery is not failed: only a failed delivery is retried by hand"),
)
@requires("admin")
def retry_delivery(delivery_id: str) -> Any:
    """Send a failed delivery again (after its cause is fixed); nothing is ever dropped (§6).

    Only a ``failed`` delivery can be retried: any other answers 409 with its status.
    """
    res = resources()
    with res.transaction() as session:
        done = retries.retry_delivery(session, principal(), delivery_id)
        if done is None:
            raise ApiProblem(404, "not-found", f"no delivery {delivery_id} is visible to this key")
        delivery, retried = done
        if not retried:
            raise ApiProblem(
                409,
                "not-failed",
                f"delivery {delivery_id} is {delivery.status}: only a failed "
                "delivery is retried by hand",
            )
        return delivery_view(delivery)  # its job is published once this commits
