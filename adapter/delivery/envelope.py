"""What one delivery sends, and the exact bytes it is sent as (DESIGN.md §6).

A :class:`Delivery` is one document for one addressee. Every channel sends it as the same JSON
*envelope*::

    {"addressee", "delivery_id", "document", "incident_reference", "local_authority",
     "payload", "payload_sha256", "version"}

serialised once as RFC 8785 (JCS) canonical JSON, so the bytes are the same for every try and
every re-send of the delivery. Two hashes, each covering something exact:

- ``payload_sha256`` (inside the envelope, :attr:`Delivery.payload_sha256`): SHA-256 of the
  *document bytes*. For a document that was uploaded as a file (``payload["attachment"]`` with
  ``content_base64``, see ``adapter.documents``) these are the file's own bytes after base64
  decoding, so an addressee can check the file it opens; for every other document they are the
  RFC 8785 canonical JSON bytes of ``payload``.
- ``Outcome.sent_sha256`` (reported by the channel, and what a receipt calls "SHA-256 of exactly
  what was sent"): SHA-256 of the whole request body, i.e. :func:`encode_envelope` for https and
  sandbox, the whole MIME message handed to the mail server for smtp.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import rfc8785

from adapter.delivery.errors import InvalidDelivery

DELIVERY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
"""A delivery id: it is the Standard Webhooks ``webhook-id``, which must not contain a ``.``."""

ENVELOPE_KEYS = frozenset(
    {
        "addressee",
        "delivery_id",
        "document",
        "incident_reference",
        "local_authority",
        "payload",
        "payload_sha256",
        "version",
    }
)
"""The keys of every envelope (DESIGN.md §6), no more and no fewer."""


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of ``value``: sorted keys, no whitespace, one form."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InvalidDelivery(f"not representable as canonical JSON: {exc}") from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def document_bytes(payload: Mapping[str, Any]) -> bytes:
    """What ``payload_sha256`` covers: an uploaded file's bytes, else the payload's JCS bytes."""
    attachment = payload.get("attachment")
    if isinstance(attachment, Mapping) and "content_base64" in attachment:
        content = attachment["content_base64"]
        if not isinstance(content, str):
            raise InvalidDelivery("payload.attachment.content_base64: expected a base64 string")
        try:
            return base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidDelivery("payload.attachment.content_base64: not valid base64") from None
    return canonical_json(dict(payload))


@dataclass(frozen=True)
class Delivery:
    """One document for one addressee: what a channel sends, and nothing about how.

    ``delivery_id`` is stable across retries (it is the ``Idempotency-Key`` and ``webhook-id``);
    ``local_authority`` is the LA's code; ``payload`` is the document's JSON (an uploaded file
    rides inside it as ``payload["attachment"]``).
    """

    delivery_id: str
    document: str
    addressee: str
    incident_reference: str
    local_authority: str
    version: int
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not DELIVERY_ID_PATTERN.match(self.delivery_id):
            raise InvalidDelivery(
                "delivery_id: expected 1-128 letters, digits, '_' or '-' (it is the webhook-id)"
            )
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidDelivery(
                f"delivery {self.delivery_id}: version must be a whole number >= 1"
            )
        for name in ("document", "addressee", "incident_reference", "local_authority"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidDelivery(
                    f"delivery {self.delivery_id}: {name} must be a non-empty text"
                )

    @cached_property
    def payload_sha256(self) -> str:
        """Hex SHA-256 of :func:`document_bytes` of the payload (see the module docstring)."""
        return sha256_hex(document_bytes(self.payload))

    def envelope(self) -> dict[str, Any]:
        """The JSON envelope as a dict (DESIGN.md §6)."""
        return {
            "delivery_id": self.delivery_id,
            "document": self.document,
            "addressee": self.addressee,
            "incident_reference": self.incident_reference,
            "local_authority": self.local_authority,
            "version": self.version,
            "payload": dict(self.payload),
            "payload_sha256": self.payload_sha256,
        }


def encode_envelope(delivery: Delivery) -> bytes:
    """The envelope's canonical bytes: exactly the https body, the same for every try."""
    return canonical_json(delivery.envelope())


def check_envelope(body: bytes) -> dict[str, Any]:
    """Parse and check an envelope as a receiver would: its keys and its ``payload_sha256``.

    Raises :class:`InvalidDelivery` naming the first problem. Used by the sandbox receiver and
    useful to any addressee written in Python.
    """
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidDelivery("body: not JSON") from None
    if not isinstance(envelope, dict):
        raise InvalidDelivery("body: expected a JSON object")
    if set(envelope) != ENVELOPE_KEYS:
        missing = sorted(ENVELOPE_KEYS - set(envelope))
        extra = sorted(set(envelope) - ENVELOPE_KEYS)
        raise InvalidDelivery(f"envelope keys: missing {missing}, unexpected {extra}")
    if not isinstance(envelope["payload"], dict):
        raise InvalidDelivery("payload: expected a JSON object")
    if sha256_hex(document_bytes(envelope["payload"])) != envelope["payload_sha256"]:
        raise InvalidDelivery("payload_sha256: does not match the payload")
    return envelope
