"""Delivery receipts and log checkpoints (DESIGN.md §6): the signed content, a contract.

A receipt proves what was sent to which addressee and when it was acknowledged. This release
issues version 3, which says who or what acknowledged it (``acknowledged_by``,
``confirmed_by``, ``acknowledgement``): the addressee's endpoint, a mail relay, or a person who
made the submission on the national online service (the ``csins`` channel). Version 2 receipts
(no such fields) and version 1 receipts (issued before ``document_sha256`` existed) stay in the
log and still verify. Each version's fields are all required (``addressee_reference`` and
``confirmed_by`` may be null), and unknown keys are refused: a version 1 receipt has every
field of version 2 but ``document_sha256``, a version 2 receipt every field of version 3 but
the last three.

==========================  ===================================================================
``version``                 ``"2"`` (``"1"`` for a receipt issued before ``document_sha256``)
``receipt_id``              the receipt's id (a UUID)
``sequence``                its place in the deployment's receipt log: 1, 2, 3, ... without gaps
``previous_receipt_sha256`` chain hash of receipt ``sequence - 1`` (64 zeros for sequence 1)
``issued_at``               when the receipt was signed
``delivery_id``             the delivery (also its ``Idempotency-Key`` and ``webhook-id``)
``document``                what was sent, e.g. ``incident_notification``
``addressee``               to whom: ``panel``, ``secretary_of_state``, ``ofsted``, ``dfe``
``incident_reference``      the LA's incident reference
``local_authority_code``    the LA's 3-digit code
``document_sha256``         lowercase hex SHA-256 of the document itself (version 2): the bytes
                            of the file the LA uploaded (a rapid review PDF), else the RFC 8785
                            canonical JSON of the payload; the same value the envelope carries
                            as its ``payload_sha256`` (and an email as ``X-Csins-Payload-Sha256``)
``payload_sha256``          lowercase hex SHA-256 of the whole message sent on the wire: the
                            request body (the JSON envelope) for https and sandbox, the whole
                            email handed to the relay for smtp. Not the envelope's field of the
                            same name, which is ``document_sha256`` here
``channel``                 ``https``, ``smtp`` or ``sandbox`` (version 3: or ``csins``)
``destination``             the endpoint URL or mailbox it was sent to (``csins``: the online
                            service's address)
``attempts``                how many attempts it took (at least 1)
``first_attempt_at``        when the first attempt started
``acknowledged_at``         when the addressee acknowledged it (``csins``: when the person
                            submitted it on the online service)
``addressee_status``        the addressee's answer, e.g. ``"202"``, the mail relay's reply to
                            DATA (``"250 2.0.0"``), or ``"confirmed"`` (``csins``)
``addressee_reference``     the addressee's own reference (smtp: the message's Message-ID;
                            ``csins``: the online service's confirmation reference), or null
``due_at``                  the deadline: the last second (23:59:59) of the due day in
                            Europe/London, with that day's offset: ``2026-06-30T23:59:59+01:00``
``on_time``                 acknowledged on or before the due day (Europe/London, DESIGN.md §5)
``acknowledged_by``         (version 3) ``addressee`` (its endpoint answered: https, sandbox),
                            ``mail_relay`` (a relay accepted the message: smtp; that acceptance
                            is all SMTP can prove, not delivery to the mailbox) or ``person``
                            (``csins``: a person confirmed the submission)
``confirmed_by``            (version 3) who made the submission, for ``person``; else null
``acknowledgement``         (version 3) the same in one sentence, for a reader of the receipt
==========================  ===================================================================

Times other than ``due_at`` are RFC 3339 UTC to the second with ``Z``: ``2026-11-23T10:15:30Z``.
Values are strict JSON types: ``sequence`` and ``attempts`` integers, ``on_time`` a boolean.

A checkpoint is ``{"version": "1", "size", "head_sha256", "issued_at"}``: the log held ``size``
receipts and receipt ``size`` had chain hash ``head_sha256`` (64 zeros when ``size`` is 0).
Checkpoints are still version 1: they hash receipts whatever their version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adapter.clock import LONDON
from schemas import codes
from schemas.fields import StrictBoolean, StrictInteger, code

RECEIPT_VERSION = "3"
"""The version of the receipts this release issues (see the module docstring)."""

CHECKPOINT_VERSION = "1"
"""The version of the checkpoints this release issues."""

CHANNELS = ("https", "smtp", "sandbox")
"""Delivery channels of version 1 and 2 receipts (DESIGN.md §6)."""

CHANNELS_V3 = (*CHANNELS, "csins")
"""Delivery channels of version 3 receipts: ``csins`` is an assisted submission."""

ACKNOWLEDGERS = {
    "https": "addressee",
    "sandbox": "addressee",
    "smtp": "mail_relay",
    "csins": "person",
}
"""Who acknowledges a delivery on each channel (``acknowledged_by``, version 3)."""

GENESIS_SHA256 = "0" * 64
"""``previous_receipt_sha256`` of receipt 1, and ``head_sha256`` of an empty log."""

UTC_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_UTC_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_OFFSET_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
_SHA256 = r"^[0-9a-f]{64}$"


def _time(pattern: str, example: str) -> fields.String:
    def parses(value: str) -> bool:
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(f"'{value}' is not a valid time, e.g. {example}") from None
        return True

    return fields.String(
        required=True,
        validate=[
            validate.Regexp(pattern, error=f"'{{input}}' is not a time like {example}"),
            parses,
        ],
    )


def utc_time(value: str) -> dt.datetime:
    """Parse an RFC 3339 time (``Z`` or an offset) as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sha256(**kwargs: Any) -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(_SHA256, error="expected 64 lowercase hex digits (SHA-256)"),
        **kwargs,
    )


def _text(length: int) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=length))


class ReceiptSchemaV1(Schema):
    """The signed content of a version 1 receipt: verified still, no longer issued."""

    version = fields.String(required=True, validate=validate.Equal("1"))
    receipt_id = _text(100)
    sequence = StrictInteger(required=True, validate=validate.Range(min=1))
    previous_receipt_sha256 = _sha256()
    issued_at = _time(_UTC_TIME, "2026-11-23T10:15:30Z")
    delivery_id = _text(100)
    document = code(codes.DOCUMENTS, required=True)
    addressee = code(codes.ADDRESSEES, required=True)
    incident_reference = _text(100)
    local_authority_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{3}$", error="expected a 3-digit LA code, e.g. 812"),
    )
    payload_sha256 = _sha256()
    channel = code(CHANNELS, required=True)
    destination = _text(2000)
    attempts = StrictInteger(required=True, validate=validate.Range(min=1))
    first_attempt_at = _time(_UTC_TIME, "2026-11-23T10:15:30Z")
    acknowledged_at = _time(_UTC_TIME, "2026-11-23T10:15:30Z")
    addressee_status = _text(200)
    addressee_reference = fields.String(
        required=True, allow_none=True, validate=validate.Length(min=1, max=200)
    )
    due_at = _time(_OFFSET_TIME, "2026-11-30T23:59:59+00:00")
    on_time = StrictBoolean(required=True)

    @validates_schema(skip_on_field_errors=True)
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        """Times in order, and ``on_time`` agreeing with the due day (DESIGN.md §5)."""
        first, acknowledged = utc_time(data["first_attempt_at"]), utc_time(data["acknowledged_at"])
        if acknowledged < first:
            raise ValidationError("is before first_attempt_at", "acknowledged_at")
        if utc_time(data["issued_at"]) < acknowledged:
            raise ValidationError("is before acknowledged_at", "issued_at")
        due = utc_time(data["due_at"])
        if data["on_time"] != (
            acknowledged.astimezone(LONDON).date() <= due.astimezone(LONDON).date()
        ):
            raise ValidationError("disagrees with acknowledged_at and due_at", "on_time")
        if data["sequence"] == 1 and data["previous_receipt_sha256"] != GENESIS_SHA256:
            raise ValidationError("must be 64 zeros for sequence 1", "previous_receipt_sha256")


class ReceiptSchemaV2(ReceiptSchemaV1):
    """The signed content of a version 2 receipt: verified still, no longer issued."""

    version = fields.String(required=True, validate=validate.Equal("2"))
    document_sha256 = _sha256()


class ReceiptSchema(ReceiptSchemaV2):
    """The signed content of a delivery receipt, version 3 (see the module docstring)."""

    version = fields.String(required=True, validate=validate.Equal(RECEIPT_VERSION))
    channel = code(CHANNELS_V3, required=True)
    acknowledged_by = code(tuple(dict.fromkeys(ACKNOWLEDGERS.values())), required=True)
    confirmed_by = fields.String(
        required=True, allow_none=True, validate=validate.Length(min=1, max=200)
    )
    acknowledgement = _text(1000)

    @validates_schema(skip_on_field_errors=True)
    def _acknowledger(self, data: dict[str, Any], **_: Any) -> None:
        """The channel says who acknowledges; only a person is named."""
        if data["acknowledged_by"] != ACKNOWLEDGERS[data["channel"]]:
            raise ValidationError(
                f"a {data['channel']} delivery is acknowledged by {ACKNOWLEDGERS[data['channel']]}",
                "acknowledged_by",
            )
        if (data["confirmed_by"] is None) == (data["acknowledged_by"] == "person"):
            raise ValidationError(
                "names the person who made the submission, and no one else", "confirmed_by"
            )


RECEIPT_SCHEMAS: dict[str, type[Schema]] = {
    "1": ReceiptSchemaV1,
    "2": ReceiptSchemaV2,
    RECEIPT_VERSION: ReceiptSchema,
}
"""The schema of each receipt version that verifies, by ``version``."""


class CheckpointSchema(Schema):
    """A signed statement of the receipt log's head: ``size`` receipts, the last hashing so."""

    version = fields.String(required=True, validate=validate.Equal(CHECKPOINT_VERSION))
    size = StrictInteger(required=True, validate=validate.Range(min=0))
    head_sha256 = _sha256()
    issued_at = _time(_UTC_TIME, "2026-11-23T10:15:30Z")
