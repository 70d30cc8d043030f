"""Build, sign and verify the receipt of an acknowledged delivery (DESIGN.md §6).

The delivery worker calls :func:`issue_receipt` once per acknowledged delivery, with the next
sequence number of the deployment's log and the chain hash of the receipt before it
(:data:`GENESIS_SHA256` for the first), and stores the result: both must be taken under the
same lock or transaction so that the log stays one unbroken chain.

Receipts are issued at version 3, which hashes the document itself (``document_sha256``) beside
the message that carried it (``payload_sha256``) and says who or what acknowledged it: the
addressee's endpoint, a mail relay (all SMTP can prove), or a person who made the submission on
the national online service; :func:`verify_receipt` verifies version 1 and 2 receipts, issued
before, as they were signed (``schemas/receipt.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapter.clock import utcnow
from adapter.deadlines.status import due_instant, is_on_time
from adapter.errors import InvalidRecord
from adapter.receipts.jws import canonical
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.signed import SignedReceipt, Verified, verify_signed
from schemas.fields import flatten
from schemas.receipt import (
    ACKNOWLEDGERS,
    RECEIPT_VERSION,
    UTC_TIME_FORMAT,
    ReceiptSchema,
)

_SCHEMA = ReceiptSchema()


@dataclass(frozen=True)
class DeliveryFacts:
    """What the delivery worker knows once an addressee has acknowledged a delivery."""

    delivery_id: str
    document: str
    addressee: str
    incident_reference: str
    local_authority_code: str
    document_sha256: str
    """Lowercase hex SHA-256 of the document itself: an uploaded file's own bytes, else the
    payload's RFC 8785 canonical JSON. The envelope's ``payload_sha256``
    (:attr:`adapter.delivery.Delivery.payload_sha256`), whatever the channel."""
    payload_sha256: str
    """Lowercase hex SHA-256 of the whole message sent on the wire: the request body (the JSON
    envelope) for https and sandbox, the whole email for smtp (``Outcome.sent_sha256``)."""
    channel: str
    destination: str
    attempts: int
    first_attempt_at: dt.datetime
    acknowledged_at: dt.datetime
    addressee_status: str
    """The addressee's answer as text: an HTTP status (``"202"``) or an SMTP reply."""
    addressee_reference: str | None
    due_on: dt.date
    """The due day; the deadline is the end of that day in Europe/London (DESIGN.md §5)."""
    confirmed_by: str | None = None
    """Who made the submission on the online service (``csins`` only): a person confirmed it."""


def acknowledgement(facts: DeliveryFacts) -> str:
    """One sentence saying who or what acknowledged the delivery, and what that proves."""
    by = ACKNOWLEDGERS.get(facts.channel, "addressee")
    reference = facts.addressee_reference or "none given"
    if by == "person":
        return (
            f"Confirmed by a person: {facts.confirmed_by} made the submission on the national "
            f"online service (CSINS), which gave the confirmation reference {reference}."
        )
    if by == "mail_relay":
        return (
            f"A mail relay accepted the message (reply {facts.addressee_status}, Message-ID "
            f"{reference}). A relay's acceptance is what SMTP can prove: not delivery to the "
            "mailbox, nor that anyone read it."
        )
    return f"The addressee's endpoint acknowledged the document (HTTP {facts.addressee_status})."


def payload_sha256(sent: bytes) -> str:
    """Lowercase hex SHA-256 of ``sent``: the message sent, or the document."""
    return hashlib.sha256(sent).hexdigest()


def format_utc(moment: dt.datetime) -> str:
    """An aware datetime as RFC 3339 UTC to the second: ``2026-11-23T10:15:30Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; receipts record aware times only")
    return moment.astimezone(dt.UTC).strftime(UTC_TIME_FORMAT)


def end_of_day_london(day: dt.date) -> str:
    """The last second of ``day`` in Europe/London, with that day's offset (GMT or BST)."""
    return due_instant(day).isoformat(timespec="seconds")


def build_receipt(
    facts: DeliveryFacts,
    *,
    sequence: int,
    previous_receipt_sha256: str,
    receipt_id: str | None = None,
    issued_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The readable receipt for ``facts``, validated against :class:`ReceiptSchema`.

    Raises :class:`~adapter.errors.InvalidRecord` naming each bad field (a bug in the caller:
    a receipt is built from facts the service itself recorded).
    """
    try:
        first_attempt_at = format_utc(facts.first_attempt_at)
        acknowledged_at = format_utc(facts.acknowledged_at)
        issued = format_utc(issued_at or utcnow())
    except ValueError as exc:
        raise InvalidRecord([("_schema", str(exc))]) from None
    receipt: dict[str, Any] = {
        "version": RECEIPT_VERSION,
        "receipt_id": receipt_id or str(uuid.uuid4()),
        "sequence": sequence,
        "previous_receipt_sha256": previous_receipt_sha256,
        "issued_at": issued,
        "delivery_id": facts.delivery_id,
        "document": facts.document,
        "addressee": facts.addressee,
        "incident_reference": facts.incident_reference,
        "local_authority_code": facts.local_authority_code,
        "document_sha256": facts.document_sha256,
        "payload_sha256": facts.payload_sha256,
        "channel": facts.channel,
        "destination": facts.destination,
        "attempts": facts.attempts,
        "first_attempt_at": first_attempt_at,
        "acknowledged_at": acknowledged_at,
        "addressee_status": facts.addressee_status,
        "addressee_reference": facts.addressee_reference,
        "due_at": end_of_day_london(facts.due_on),
        "on_time": is_on_time(facts.acknowledged_at, facts.due_on),
        "acknowledged_by": ACKNOWLEDGERS.get(facts.channel, "addressee"),
        "confirmed_by": facts.confirmed_by,
        "acknowledgement": acknowledgement(facts),
    }
    problems = flatten(_SCHEMA.validate(receipt))
    if problems:
        raise InvalidRecord(problems)
    return receipt


def sign_receipt(receipt: Mapping[str, Any], keyring: SigningKeyring) -> SignedReceipt:
    """Sign the RFC 8785 canonical form of ``receipt`` with the keyring's current key."""
    content = dict(receipt)
    return SignedReceipt(content, keyring.sign(canonical(content), SignedReceipt.typ))


def issue_receipt(
    facts: DeliveryFacts,
    *,
    sequence: int,
    previous_receipt_sha256: str,
    keyring: SigningKeyring,
    receipt_id: str | None = None,
    issued_at: dt.datetime | None = None,
) -> SignedReceipt:
    """Build and sign the receipt for an acknowledged delivery (see the module docstring)."""
    receipt = build_receipt(
        facts,
        sequence=sequence,
        previous_receipt_sha256=previous_receipt_sha256,
        receipt_id=receipt_id,
        issued_at=issued_at,
    )
    return sign_receipt(receipt, keyring)


def verify_receipt(signed: SignedReceipt, public_keys: Mapping[str, Ed25519PublicKey]) -> Verified:
    """Verify one receipt on its own (signature, key, readable copy, schema).

    Raises a :class:`~adapter.receipts.errors.VerificationFailed` whose ``reason`` is one line.
    """
    return verify_signed(signed, public_keys)
