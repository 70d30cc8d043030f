"""Bodies the REST API answers with (DESIGN.md §7), for the OpenAPI document and for dumping.

Lists answer ``{"items": [...], "next": cursor-or-null}``; times are RFC 3339 in UTC.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from schemas import codes
from schemas.events import EventSchema
from schemas.fields import code
from schemas.incident import IncidentRecordSchema

DELIVERY_STATUSES = ("queued", "sending", "retrying", "acknowledged", "failed")
"""A delivery's status (DESIGN.md §7); the same list as ``adapter.store.models``."""


class _Cursor(fields.String):
    """A list cursor; an empty one (``cursor=``) is the first page, as no cursor is."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:  # type: ignore[override]
        text = super()._deserialize(value, attr, data, **kwargs)
        return text or None


class ListQuerySchema(Schema):
    cursor = _Cursor(load_default=None, metadata={"description": "From a previous `next`"})
    limit = fields.Integer(load_default=None, metadata={"description": "Page size (1-200)"})


class ObligationSchema(Schema):
    """One deadline: a document owed to (or expected from) one addressee by the end of ``due``."""

    id = fields.Integer()
    incident_id = fields.String()
    document = fields.String()
    addressee = fields.String()
    due = fields.Date(metadata={"description": "Due by the end of this day, Europe/London"})
    kind = code(codes.OBLIGATION_KINDS)
    explanation = fields.String()
    status = code(codes.DEADLINE_STATUSES)
    acknowledged_at = fields.DateTime(allow_none=True)
    satisfied_at = fields.DateTime(allow_none=True)


class DeliverySchema(Schema):
    id = fields.String()
    incident_id = fields.String()
    document = fields.String()
    addressee = fields.String()
    version = fields.Integer()
    status = code(DELIVERY_STATUSES)
    attempts = fields.Integer()
    due = fields.Date(allow_none=True)
    first_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    acknowledged_at = fields.DateTime(allow_none=True)
    addressee_reference = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    payload_sha256 = fields.String()
    channel = fields.String(
        allow_none=True,
        metadata={
            "description": "The channel its route chose (csins: a submission a person makes on "
            "the national online service); null until first tried"
        },
    )


class ConfirmationSchema(Schema):
    """A submission made on the national online service (CSINS), as a case system records it."""

    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The online service's confirmation reference"},
    )
    submitted_by = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Who made the submission"},
    )
    submitted_at = fields.AwareDateTime(
        required=True, metadata={"description": "When it was made (RFC 3339, with an offset)"}
    )


class SubmissionSchema(Schema):
    """A recorded submission and the deliveries it acknowledged (every addressee it reached)."""

    id = fields.String()
    incident_id = fields.String()
    document = fields.String()
    version = fields.Integer()
    reference = fields.String()
    submitted_by = fields.String()
    submitted_at = fields.DateTime()
    recorded_at = fields.DateTime()
    deliveries = fields.List(fields.Nested(DeliverySchema))


class TimelineEntrySchema(Schema):
    at = fields.DateTime()
    kind = fields.String(metadata={"description": "version, event, delivery or attempt"})
    summary = fields.String()


class StoredIncidentSchema(Schema):
    """An incident as stored: its current record, what is owed, and what has happened."""

    id = fields.String()
    local_authority_code = fields.String()
    reference = fields.String()
    status = fields.String(
        metadata={"description": "notifiable, blocked, not_notifiable or referral"}
    )
    current_version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    record = fields.Dict(
        allow_none=True,
        metadata={
            "description": "The current version of the incident record: children's personal "
            "data, so shown to local_authority keys only (null for admin and compliance keys, "
            "whose work is queues, retries, receipts and audit)"
        },
    )
    obligations = fields.List(fields.Nested(ObligationSchema))
    deliveries = fields.List(fields.Nested(DeliverySchema))
    timeline = fields.List(fields.Nested(TimelineEntrySchema))


class EventCreatedSchema(Schema):
    id = fields.String()
    incident_id = fields.String()
    type = fields.String()
    on = fields.Date()
    deliveries = fields.List(fields.Nested(DeliverySchema))
    obligations = fields.List(fields.Nested(ObligationSchema))


class DeadlineQuerySchema(ListQuerySchema):
    status = code(codes.DEADLINE_STATUSES, load_default=None)
    addressee = code(codes.DEADLINE_ADDRESSEES, load_default=None)
    document = code(codes.DOCUMENTS, load_default=None)
    incident = fields.String(load_default=None)


class DeadlineListSchema(Schema):
    items = fields.List(fields.Nested(ObligationSchema))
    next = fields.String(allow_none=True)


class DeliveryQuerySchema(ListQuerySchema):
    """Filters of ``GET /deliveries``: a filter naming no possible value is refused (422)."""

    incident = fields.String(load_default=None)
    addressee = code(codes.ADDRESSEES, load_default=None)
    status = code(DELIVERY_STATUSES, load_default=None)


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next = fields.String(allow_none=True)


class PlanInputSchema(IncidentRecordSchema):
    """What ``POST /plan`` and ``csins-adapter plan`` read: an incident record that may carry
    the events that followed it (DESIGN.md §7). Documents the body; ``load_plan_input`` reads it.
    """

    events = fields.List(
        fields.Nested(EventSchema),
        allow_none=True,
        load_default=None,
        metadata={"description": "Lifecycle events, as POST /incidents/{id}/events takes them"},
    )


class EventFormSchema(EventSchema):
    """``POST /incidents/{id}/events`` as ``multipart/form-data``: the event's fields as form
    fields, its document as a file part whose Content-Type is the document's media type."""

    # A file part where the JSON form nests an object: documentation only, never loaded.
    document = fields.Raw(  # type: ignore[assignment]
        metadata={
            "type": "string",
            "format": "binary",
            "description": "The document the event produced, sent as it is delivered; the "
            "part's Content-Type (required) is its media type, its filename is kept",
        }
    )


class PlanObligationSchema(Schema):
    document = fields.String()
    addressee = fields.String()
    due = fields.String(metadata={"description": "YYYY-MM-DD"})
    kind = fields.String()
    explanation = fields.String()
    trigger = fields.String()
    satisfied_on = fields.String(allow_none=True)


class PlanSchema(Schema):
    """What ``csins-adapter plan`` prints (DESIGN.md §7)."""

    notifiable = fields.Boolean()
    blocked_reason = fields.String(allow_none=True)
    classification = fields.List(fields.String())
    rapid_review_required = fields.Boolean()
    obligations = fields.List(fields.Nested(PlanObligationSchema))
    warnings = fields.List(fields.String())


class ImportSchema(Schema):
    id = fields.String()
    status = fields.String(
        metadata={
            "description": "queued, running, done or failed: imports run in the background, "
            "and the counts below grow as the import goes"
        }
    )
    rows_total = fields.Integer(
        allow_none=True,
        metadata={"description": "Data rows in the file (a progress bar's end)"},
    )
    incidents_unchanged = fields.Integer(
        metadata={"description": "Incidents identical to one stored already, so far"}
    )
    incidents_conflicting = fields.Integer(
        metadata={
            "description": "Incidents whose reference is stored with different content, so far "
            "(send an amendment for those)"
        }
    )
    finished_at = fields.DateTime(allow_none=True)
    failure = fields.String(
        allow_none=True, metadata={"description": "Why a failed import stopped"}
    )
    filename = fields.String(
        allow_none=True,
        metadata={
            "description": "The upload's filename as sent. Personal data (exports are often "
            "named after the child), stored encrypted and shown to keys that may read the LA's "
            "records; null for admin and compliance keys, and for imports stored before it was "
            "encrypted"
        },
    )
    sha256 = fields.String(
        metadata={"description": "SHA-256 of the upload, to tie the import to its file"}
    )
    size = fields.Integer(metadata={"description": "Bytes uploaded"})
    system = fields.String()
    rows_read = fields.Integer()
    incidents_created = fields.Integer(
        metadata={"description": "Incidents stored as new, all of them"}
    )
    incident_count = fields.Integer(
        metadata={"description": "Incidents converted and submitted, all of them"}
    )
    incident_outcomes = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "How many of all the incidents had each outcome (created, identical, "
            "conflict, invalid, refused)"
        },
    )
    incidents_truncated = fields.Boolean(
        metadata={"description": "Whether incidents holds only the first of the outcomes"}
    )
    error_count = fields.Integer(metadata={"description": "Row errors found, all of them"})
    rows_rejected = fields.Integer(
        metadata={"description": "Rows of the export that were not converted, all of them"}
    )
    row_errors_truncated = fields.Boolean(
        metadata={"description": "Whether row_errors holds only the first of the errors"}
    )
    created_at = fields.DateTime()
    incidents = fields.List(
        fields.Dict(),
        metadata={
            "description": "What became of each converted incident (reference, id, outcome, "
            "rows): the first 1000 in file order; incident_count and incident_outcomes count "
            "them all"
        },
    )
    row_errors = fields.List(
        fields.Dict(),
        metadata={
            "description": "Rejected rows' errors (row, field, value, message): the first "
            "1000 in full; error_count and rows_rejected count them all"
        },
    )


class HealthSchema(Schema):
    status = fields.String()
    checks = fields.Dict()


class ReceiptQuerySchema(ListQuerySchema):
    """Filters of ``GET /receipts``; ``from`` and ``to`` are days in Europe/London, inclusive."""

    incident = fields.String(load_default=None)
    addressee = fields.String(load_default=None)
    document = code(codes.DOCUMENTS, load_default=None)
    acknowledged_from = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "Acknowledged on or after this day (Europe/London)"},
    )
    acknowledged_to = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "Acknowledged on or before this day (Europe/London)"},
    )


class ReceiptItemSchema(Schema):
    """One receipt in a list: what was acknowledged, by whom, and whether in time (§6)."""

    id = fields.String()
    sequence = fields.Integer(metadata={"description": "Its place in the receipt log"})
    delivery_id = fields.String()
    incident_id = fields.String()
    local_authority_code = fields.String()
    document = fields.String()
    addressee = fields.String()
    on_time = fields.Boolean()
    acknowledged_at = fields.DateTime()


class ReceiptListSchema(Schema):
    items = fields.List(fields.Nested(ReceiptItemSchema))
    next = fields.String(allow_none=True)


class ReceiptFileSchema(Schema):
    """The receipt file ``csins-adapter receipts verify`` checks: readable content and its JWS."""

    receipt = fields.Dict(metadata={"description": "The signed receipt (schemas/receipt.py)"})
    jws = fields.String(
        metadata={"description": "JWS compact serialisation (EdDSA) of its RFC 8785 form"}
    )


class JwksSchema(Schema):
    """RFC 7517 JWK Set of the receipt signing keys (RFC 8037 OKP Ed25519), old keys included."""

    keys = fields.List(
        fields.Dict(),
        metadata={"description": 'Each {"kty": "OKP", "crv": "Ed25519", "x", "kid", "use", "alg"}'},
    )
