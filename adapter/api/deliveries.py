"""``/api/v1/deliveries``: the outbox as admins see it, retrying a failed delivery by hand, and
recording an assisted submission made on the national online service (DESIGN.md §6)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.bodies import checked_cursor, delivery_cursor_key
from adapter.api.spec import BAD_CURSOR, problem_responses
from adapter.clock import utcnow
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.http.views import delivery_view
from adapter.service import assisted, retries
from adapter.store import outbox
from schemas.api import (
    ConfirmationSchema,
    DeliveryListSchema,
    DeliveryQuerySchema,
    DeliverySchema,
    SubmissionSchema,
)

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


@blp.route("/deliveries/<delivery_id>/confirmation", methods=["POST"])
@blp.arguments(ConfirmationSchema)
@blp.response(201, SubmissionSchema)
@blp.alt_response(
    200, schema=SubmissionSchema, description="The same confirmation, already recorded"
)
@problem_responses(
    (404, "No such delivery visible to this key"),
    (409, "Not a submission to make, or confirmed already with another confirmation"),
    (422, "A field is missing or malformed, or the submission time is in the future"),
)
@requires("admin")
def confirm_delivery(confirmation: dict[str, Any], delivery_id: str) -> Any:
    """Record a submission a person made on the national online service (CSINS) for a delivery
    routed to ``csins``: it acknowledges every open delivery of the same document version (the
    Panel's, Ofsted's and the DfE's copies of one notification), each with its receipt saying it
    was confirmed by a person. The same confirmation again changes nothing (200); a different
    one for a delivery already acknowledged answers 409.
    """
    res = resources()
    now = utcnow()
    value = assisted.Confirmation(**confirmation)
    problems = assisted.check_confirmation(value, now)
    if problems:
        raise ApiProblem(
            422, "invalid-confirmation", "the confirmation is not valid", field_errors=problems
        )
    with res.transaction() as session:
        delivery = outbox.get_delivery(session, principal().la_scope, delivery_id)
        destination = res.routes.service_url(delivery.addressee) if delivery else assisted.CSINS
        recording = assisted.record_confirmation(
            session,
            res.keyring,
            res.settings,
            res.signer(),
            principal(),
            delivery_id,
            value,
            destination=destination,
            now=now,
            via="api",
        )
        if recording.result is assisted.Result.NOT_FOUND:
            raise ApiProblem(404, "not-found", f"no delivery {delivery_id} is visible to this key")
        if recording.result is assisted.Result.CONFLICT:
            raise ApiProblem(409, "confirmation-conflict", recording.reason)
        body = submission_view(recording)  # catch-up amendments are published on commit
    return body, 201 if recording.result is assisted.Result.RECORDED else 200


def submission_view(recording: assisted.Recording) -> dict[str, Any]:
    """A recorded submission and the deliveries it covers, as the API answers it."""
    row = recording.submission
    assert row is not None
    return {
        "id": row.id,
        "incident_id": row.incident_id,
        "document": row.document,
        "version": row.version,
        "reference": row.confirmation_reference,
        "submitted_by": row.submitted_by,
        "submitted_at": row.submitted_at,
        "recorded_at": row.recorded_at,
        "deliveries": [delivery_view(d) for d in recording.deliveries],
    }
