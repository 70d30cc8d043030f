"""Public keys as JWK / JWKS (RFC 7517, RFC 8037) and key ids as JWK thumbprints (RFC 7638).

A key id is the RFC 7638 thumbprint of the public key: base64url(SHA-256 of
``{"crv":"Ed25519","kty":"OKP","x":"<base64url key>"}``). It is standard, derived from the key
alone, and the same wherever it is computed, so a verifier can check that a ``kid`` names a key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from adapter.receipts.errors import MalformedJwks
from adapter.receipts.jws import ALGORITHM, b64url, b64url_decode

JWKS_FETCH_TIMEOUT_SECONDS = 10.0
"""How long (seconds) fetching a JWKS over HTTP may take before verification gives up."""

MAX_JWKS_BYTES = 1024 * 1024
"""Largest JWKS document (bytes) read from a file or URL."""

ED25519_KEY_BYTES = 32
"""Length (bytes) of an Ed25519 public key, the JWK ``x`` member."""


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key: our key id."""
    members = f'{{"crv":"Ed25519","kty":"OKP","x":"{b64url(raw_public_key(public_key))}"}}'
    return b64url(hashlib.sha256(members.encode("ascii")).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public JWK of an Ed25519 key, with its thumbprint as ``kid``, for signatures only."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public_key(public_key)),
        "kid": thumbprint(public_key),
        "use": "sig",
        "alg": ALGORITHM,
    }


_SECRET_MEMBERS = frozenset({"d", "k", "p", "q", "dp", "dq", "qi", "oth"})
"""JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1;
RFC 8037 §2): none belongs in a published key set."""


def public_keys_from_jwks(jwks: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWKS by ``kid``; keys of other types are skipped, as RFC 7517 says.

    A key without ``kid`` is filed under its thumbprint. Private or secret material (``d``,
    ``k``, ...) in any key is refused: a JWKS that leaks a key must not be used, and should be
    reported.
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise MalformedJwks('malformed JWKS: expected an object with a "keys" list')
    keys: dict[str, Ed25519PublicKey] = {}
    for index, jwk in enumerate(jwks["keys"]):
        if not isinstance(jwk, dict):
            raise MalformedJwks(f"malformed JWKS: keys[{index}] is not an object")
        if _SECRET_MEMBERS & set(jwk):  # whatever the key type: a published secret is a leak
            raise MalformedJwks(f"malformed JWKS: keys[{index}] holds a private or secret key")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALGORITHM) != ALGORITHM:
            continue
        x = jwk.get("x")
        try:
            raw = b64url_decode(x) if isinstance(x, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != ED25519_KEY_BYTES:
            raise MalformedJwks(f"malformed JWKS: keys[{index}].x is not a base64url Ed25519 key")
        key = Ed25519PublicKey.from_public_bytes(raw)
        kid = jwk.get("kid", thumbprint(key))
        if not isinstance(kid, str) or not kid:
            raise MalformedJwks(f"malformed JWKS: keys[{index}].kid is not a string")
        keys[kid] = key
    return keys


def jwks_document(public_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """A JWKS (``{"keys": [...]}``) publishing ``public_keys``, each under its thumbprint."""
    return {"keys": [public_jwk(key) for key in public_keys.values()]}


def read_jwks(
    source: str,
    *,
    timeout: float = JWKS_FETCH_TIMEOUT_SECONDS,
    max_bytes: int = MAX_JWKS_BYTES,
) -> dict[str, Ed25519PublicKey]:
    """The keys of the JWKS at ``source``: an ``http(s)://`` URL, else a file path."""
    if source.startswith(("http://", "https://")):
        body = _fetch(source, timeout, max_bytes)
    else:
        try:
            with Path(source).open("rb") as handle:
                body = handle.read(max_bytes + 1)
        except OSError as exc:
            raise MalformedJwks(f"cannot read JWKS file {source}: {exc.strerror}") from None
    if len(body) > max_bytes:
        raise MalformedJwks(f"malformed JWKS: {source} is larger than {max_bytes} bytes")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedJwks(f"malformed JWKS: {source} is not JSON") from None
    return public_keys_from_jwks(document)


def _fetch(url: str, timeout: float, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the document at ``url`` (with ``requests``, as all
    the service's outgoing HTTP); a refusal or an unreachable server is :class:`MalformedJwks`."""
    headers = {"Accept": "application/jwk-set+json, application/json"}
    try:
        with requests.get(url, headers=headers, timeout=timeout, stream=True) as response:
            if response.status_code >= 400:
                raise MalformedJwks(f"cannot fetch JWKS from {url}: HTTP {response.status_code}")
            body: bytes = response.raw.read(max_bytes + 1, decode_content=True)
            return body
    except requests.RequestException as exc:
        raise MalformedJwks(f"cannot fetch JWKS from {url}: {type(exc).__name__}") from None
