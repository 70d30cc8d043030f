"""RFC 8785 canonical JSON and JWS compact serialisation (RFC 7515) with EdDSA (RFC 8037).

Just enough JOSE for our receipts, on the ``cryptography`` package's Ed25519: the payload is the
canonical JSON of a receipt or checkpoint, the protected header is
``{"alg": "EdDSA", "kid": <RFC 7638 thumbprint>, "typ": <media type>}``, and everything is
base64url without padding. Any JOSE library verifies what this writes (see ``VERIFYING.md``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapter.receipts.errors import BadSignature, MalformedReceipt, UnknownKey

ALGORITHM = "EdDSA"
"""The only JWS algorithm we write or accept (RFC 8037: Ed25519)."""

MAX_COMPACT_CHARS = 64 * 1024
"""Longest JWS compact string (characters) we parse: a receipt is well under 2 KiB."""

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def canonical(value: Mapping[str, Any]) -> bytes:
    """The RFC 8785 (JCS) canonical UTF-8 bytes of a JSON object."""
    return rfc8785.dumps(value)


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, refusing other alphabets and non-canonical encodings."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:  # stray low bits: the same bytes spelt another way
        raise ValueError("not canonical base64url")
    return data


def sign_compact(payload: bytes, key: Ed25519PrivateKey, kid: str, typ: str) -> str:
    """A JWS compact serialisation of ``payload`` signed with ``key`` (header alg, kid, typ)."""
    header = b64url(canonical({"alg": ALGORITHM, "kid": kid, "typ": typ}))
    signing_input = f"{header}.{b64url(payload)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode('ascii')))}"


@dataclass(frozen=True)
class CompactJws:
    """A parsed (not yet verified) JWS compact serialisation."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        return str(self.header["kid"])


def parse_compact(compact: object, typ: str) -> CompactJws:
    """Split and decode ``header.payload.signature``; the header must be ours (EdDSA, kid, typ)."""
    if not isinstance(compact, str) or len(compact) > MAX_COMPACT_CHARS:
        raise MalformedReceipt("malformed: 'jws' must be a JWS compact string")
    parts = compact.split(".")
    if len(parts) != 3:
        raise MalformedReceipt("malformed: 'jws' must have three dot-separated parts")
    try:
        header_bytes, payload, signature = (b64url_decode(part) for part in parts)
        header = json.loads(header_bytes)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedReceipt("malformed: 'jws' is not base64url-encoded JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("kid"), str):
        raise MalformedReceipt("malformed: the JWS header has no 'kid'")
    if header.get("alg") != ALGORITHM:
        raise MalformedReceipt(f"malformed: JWS algorithm {header.get('alg')!r} is not EdDSA")
    if header.get("typ") != typ:
        raise MalformedReceipt(f"malformed: JWS type {header.get('typ')!r} is not '{typ}'")
    if set(header) - {"alg", "kid", "typ"}:
        raise MalformedReceipt("malformed: the JWS header has unexpected parameters")
    return CompactJws(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def verify_compact(
    compact: object, public_keys: Mapping[str, Ed25519PublicKey], typ: str
) -> CompactJws:
    """Parse ``compact`` and check its signature with the published key its ``kid`` names."""
    jws = parse_compact(compact, typ)
    key = public_keys.get(jws.kid)
    if key is None:
        raise UnknownKey(jws.kid)
    try:
        key.verify(jws.signature, jws.signing_input)
    except InvalidSignature:
        raise BadSignature(jws.kid) from None
    return jws
