"""Standard Webhooks signatures (spec/standard-webhooks.md, version 1.0.0).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``: the id and unix-seconds
timestamp as ASCII, then the exact body bytes. Two schemes:

- ``v1``: HMAC-SHA256 with a shared secret serialised as ``whsec_<base64>`` (24-64 bytes);
- ``v1a``: Ed25519, the secret key serialised as ``whsk_<base64 of the 32-byte seed>`` and the
  public key as ``whpk_<base64 of the 32 raw bytes>``.

The ``webhook-signature`` header is a space-separated list of ``<scheme>,<base64 signature>``,
one per signing key, so a key can be rotated without downtime; a receiver accepts the webhook
when any one signature verifies with a key it trusts.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapter.delivery.errors import SignatureError, WebhookHeaderError

HMAC_SECRET_MIN_BYTES = 24
"""Shortest ``v1`` secret (bytes) the spec allows (192 bits)."""

HMAC_SECRET_MAX_BYTES = 64
"""Longest ``v1`` secret (bytes) the spec allows (512 bits)."""

NEW_HMAC_SECRET_BYTES = 32
"""Length (bytes) of the ``v1`` secrets :func:`new_key` makes."""


class Scheme(enum.StrEnum):
    """The signature identifiers of the spec."""

    V1 = "v1"
    """HMAC-SHA256, symmetric."""
    V1A = "v1a"
    """Ed25519, asymmetric (the spec's preference)."""


def _b64decode(text: str, what: str) -> bytes:
    cleaned = text.strip()
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what}: not valid base64") from None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    """The bytes every scheme signs: ``{id}.{timestamp}.{body}``."""
    return f"{webhook_id}.{timestamp}.".encode("ascii") + body


@dataclass(frozen=True)
class SigningKey:
    """A key that signs: a ``v1`` HMAC secret or a ``v1a`` Ed25519 private key."""

    scheme: Scheme
    _hmac_secret: bytes | None = None
    _private_key: Ed25519PrivateKey | None = None

    def __repr__(self) -> str:  # never show key material
        return f"SigningKey({self.scheme.value})"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        """A key from its serialised form: ``whsec_...`` (v1) or ``whsk_...`` (v1a)."""
        text = text.strip()
        if text.startswith("whsec_"):
            return cls(Scheme.V1, _hmac_secret=_hmac_secret(text[len("whsec_") :]))
        if text.startswith("whsk_"):
            raw = _b64decode(text[len("whsk_") :], "whsk_ key")
            if len(raw) not in (32, 64):
                raise SignatureError("whsk_ key: expected a 32-byte Ed25519 seed")
            private = Ed25519PrivateKey.from_private_bytes(raw[:32])
            if len(raw) == 64 and raw[32:] != _public_bytes(private.public_key()):
                raise SignatureError("whsk_ key: the public half does not match the seed")
            return cls(Scheme.V1A, _private_key=private)
        raise SignatureError("signing key: expected a 'whsec_' (v1) or 'whsk_' (v1a) secret")

    def sign(self, content: bytes) -> str:
        """One ``<scheme>,<base64 signature>`` entry for the signature header."""
        if self._hmac_secret is not None:
            return f"v1,{_b64(hmac.new(self._hmac_secret, content, hashlib.sha256).digest())}"
        assert self._private_key is not None
        return f"v1a,{_b64(self._private_key.sign(content))}"

    def verifying_key(self) -> VerifyingKey:
        """The key a receiver needs: the same secret (v1) or the public key (v1a)."""
        if self._hmac_secret is not None:
            return VerifyingKey(Scheme.V1, _hmac_secret=self._hmac_secret)
        assert self._private_key is not None
        return VerifyingKey(Scheme.V1A, _public_key=self._private_key.public_key())


@dataclass(frozen=True)
class VerifyingKey:
    """A key a receiver trusts: a ``v1`` HMAC secret or a ``v1a`` Ed25519 public key."""

    scheme: Scheme
    _hmac_secret: bytes | None = None
    _public_key: Ed25519PublicKey | None = None

    def __repr__(self) -> str:
        return f"VerifyingKey({self.scheme.value})"

    @classmethod
    def parse(cls, text: str) -> VerifyingKey:
        """From ``whsec_...`` (v1), ``whpk_...`` (v1a), or ``whsk_...`` (its public half)."""
        text = text.strip()
        if text.startswith("whpk_"):
            raw = _b64decode(text[len("whpk_") :], "whpk_ key")
            if len(raw) != 32:
                raise SignatureError("whpk_ key: expected a 32-byte Ed25519 public key")
            return cls(Scheme.V1A, _public_key=Ed25519PublicKey.from_public_bytes(raw))
        if text.startswith(("whsec_", "whsk_")):
            return SigningKey.parse(text).verifying_key()
        raise SignatureError("verifying key: expected a 'whsec_', 'whpk_' or 'whsk_' key")

    def serialise(self) -> str:
        """The key's ``whsec_`` or ``whpk_`` form."""
        if self._hmac_secret is not None:
            return f"whsec_{_b64(self._hmac_secret)}"
        assert self._public_key is not None
        return f"whpk_{_b64(_public_bytes(self._public_key))}"

    def verify(self, content: bytes, signature: bytes) -> bool:
        """True when ``signature`` (raw bytes) is this key's signature of ``content``."""
        if self._hmac_secret is not None:
            expected = hmac.new(self._hmac_secret, content, hashlib.sha256).digest()
            return hmac.compare_digest(expected, signature)
        assert self._public_key is not None
        try:
            self._public_key.verify(signature, content)
        except InvalidSignature:
            return False
        return True


def _hmac_secret(encoded: str) -> bytes:
    raw = _b64decode(encoded, "whsec_ secret")
    if not HMAC_SECRET_MIN_BYTES <= len(raw) <= HMAC_SECRET_MAX_BYTES:
        raise SignatureError(
            f"whsec_ secret: expected {HMAC_SECRET_MIN_BYTES}-{HMAC_SECRET_MAX_BYTES} bytes, "
            f"got {len(raw)}"
        )
    return raw


def _public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def parse_signing_keys(text: str) -> tuple[SigningKey, ...]:
    """Keys from a space- or comma-separated list (an env var's value); the order is kept."""
    parts = [part for part in text.replace(",", " ").split() if part]
    if not parts:
        raise SignatureError("signing key: empty")
    return tuple(SigningKey.parse(part) for part in parts)


def new_key(scheme: Scheme) -> tuple[str, str]:
    """A fresh ``(signing key, verifying key)`` pair as text: the addressee gets the second."""
    if scheme is Scheme.V1:
        secret = f"whsec_{_b64(secrets.token_bytes(NEW_HMAC_SECRET_BYTES))}"
        return secret, secret
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    return f"whsk_{_b64(seed)}", f"whpk_{_b64(_public_bytes(private.public_key()))}"


def signature_header(
    keys: Iterable[SigningKey], webhook_id: str, timestamp: int, body: bytes
) -> str:
    """The ``webhook-signature`` value: one signature per key, space-separated."""
    content = signed_content(webhook_id, timestamp, body)
    return " ".join(key.sign(content) for key in keys)


def verify_webhook(
    headers: Mapping[str, str],
    body: bytes,
    keys: Sequence[VerifyingKey],
    *,
    now: float,
    tolerance_seconds: float,
) -> Scheme:
    """Check a webhook as the spec's receiver does; return the scheme whose signature matched.

    ``headers`` may use any case. Raises :class:`WebhookHeaderError` when a header is missing or
    malformed or the timestamp is not within ``tolerance_seconds`` of ``now`` (unix seconds), and
    :class:`SignatureError` when no signature verifies with any of ``keys``.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "").strip()
    signatures = lowered.get("webhook-signature", "")
    if not webhook_id or not stamp or not signatures:
        raise WebhookHeaderError("missing webhook-id, webhook-timestamp or webhook-signature")
    if not stamp.isdigit():
        raise WebhookHeaderError("webhook-timestamp: expected unix seconds")
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance_seconds:
        raise WebhookHeaderError("webhook-timestamp: too old or too new")
    content = signed_content(webhook_id, timestamp, body)
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        for key in keys:
            if key.scheme.value == version and key.verify(content, signature):
                return key.scheme
    raise SignatureError("no signature matches a trusted key")
