"""What one delivery sends, and the exact bytes it is sent as (DESIGN.md §6).

A :class:`Delivery` is one document for one addressee. Every channel sends it as the same JSON
*envelope*::

    {"addressee", "delivery_id", "document", "incident_reference", "local_authority",
     "payload", "payload_sha256", "version"}

serialised once as RFC 8785 (JCS) canonical JSON, so the bytes are the same for every try and
every re-send of the delivery. The outbox already stores each payload as canonical bytes, so a
delivery built with :meth:`Delivery.from_canonical` splices those bytes into the envelope and
hashes them as they are instead of canonicalising the payload again. Two hashes, each covering
something exact:

- ``payload_sha256`` (inside the envelope, :attr:`Delivery.payload_sha256`): SHA-256 of the
  *document bytes*. For a document that was uploaded as a file (``payload["attachment"]`` with
  ``content_base64``, see ``adapter.rules.documents``) these are the file's own bytes after base64
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
from dataclasses import dataclass, field
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
        # The class name only: the message quotes the value (from the payload, personal data).
        raise InvalidDelivery(
            f"not representable as canonical JSON: {type(exc).__name__}"
        ) from None


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def attachment_bytes(payload: Mapping[str, Any]) -> bytes | None:
    """The bytes of the file an uploaded document carries (``payload["attachment"]``), if any."""
    attachment = payload.get("attachment")
    if not isinstance(attachment, Mapping) or "content_base64" not in attachment:
        return None
    content = attachment["content_base64"]
    if not isinstance(content, str):
        raise InvalidDelivery("payload.attachment.content_base64: expected a base64 string")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidDelivery("payload.attachment.content_base64: not valid base64") from None


def document_bytes(payload: Mapping[str, Any]) -> bytes:
    """What ``payload_sha256`` covers: an uploaded file's bytes, else the payload's JCS bytes."""
    attached = attachment_bytes(payload)
    return canonical_json(dict(payload)) if attached is None else attached


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
    payload_json: bytes | None = field(default=None, repr=False, compare=False)
    """``payload`` as RFC 8785 canonical bytes, when the caller holds them already: sent and
    hashed as they are. Set it through :meth:`from_canonical`, which keeps the two in step."""

    @classmethod
    def from_canonical(cls, payload_json: bytes, **fields: Any) -> Delivery:
        """A delivery of ``payload_json``, RFC 8785 canonical bytes such as the outbox stores;
        ``fields`` are the other fields. The bytes are parsed once, for channels that read the
        payload (an attachment), and never canonicalised again."""
        try:
            payload = json.loads(payload_json)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InvalidDelivery("payload: not JSON") from None
        if not isinstance(payload, dict):
            raise InvalidDelivery("payload: expected a JSON object")
        return cls(payload=payload, payload_json=payload_json, **fields)

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
    def canonical_payload(self) -> bytes:
        """The payload's RFC 8785 canonical bytes: ``payload_json``, else computed once."""
        if self.payload_json is not None:
            return self.payload_json
        return canonical_json(dict(self.payload))

    @cached_property
    def payload_sha256(self) -> str:
        """Hex SHA-256 of :func:`document_bytes` of the payload (see the module docstring)."""
        attached = attachment_bytes(self.payload)
        return sha256_hex(self.canonical_payload if attached is None else attached)

    def envelope(self) -> dict[str, Any]:
        """The JSON envelope as a dict (DESIGN.md §6)."""
        return {**self._envelope_fields(), "payload": dict(self.payload)}

    def _envelope_fields(self) -> dict[str, Any]:
        """Every member of the envelope but the payload."""
        return {
            "delivery_id": self.delivery_id,
            "document": self.document,
            "addressee": self.addressee,
            "incident_reference": self.incident_reference,
            "local_authority": self.local_authority,
            "version": self.version,
            "payload_sha256": self.payload_sha256,
        }


def encode_envelope(delivery: Delivery) -> bytes:
    """The envelope's canonical bytes: exactly the https body, the same for every try.

    RFC 8785 writes an object's members sorted by key, each as ``key:value`` in canonical form;
    the members are written that way here, the payload's being its canonical bytes as they are.
    (The keys are ASCII, so sorting by UTF-16 code unit, as the RFC says, is plain sorting.)
    """
    members = {**delivery._envelope_fields(), "payload": None}
    return (
        b"{"
        + b",".join(
            canonical_json(key)
            + b":"
            + (delivery.canonical_payload if key == "payload" else canonical_json(value))
            for key, value in sorted(members.items())
        )
        + b"}"
    )


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
