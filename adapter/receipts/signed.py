"""Signed documents (receipts, checkpoints) as files, and how one is verified on its own.

The file a compliance officer downloads is JSON holding the readable content beside the JWS::

    {"receipt": {...}, "jws": "<header>.<payload>.<signature>"}      (or "checkpoint": {...})

It verifies when the signature checks with a key the JWKS publishes, and the JWS payload is
exactly the RFC 8785 canonical form of the readable object; when it is not, the first field that
differs is named, so an edited readable copy says what was edited. Verifying one file needs only
that file and the JWKS: its cost does not depend on the size of the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from marshmallow import Schema

from adapter.receipts.errors import AlteredField, MalformedReceipt
from adapter.receipts.jws import canonical, parse_compact, verify_compact
from schemas import unique_keys
from schemas.fields import flatten
from schemas.receipt import CHECKPOINT_VERSION, RECEIPT_SCHEMAS, CheckpointSchema

MAX_FILE_BYTES = 1024 * 1024
"""Largest receipt or checkpoint file (bytes) read for verification."""

_S = TypeVar("_S", bound="Signed")


@dataclass(frozen=True)
class Signed:
    """Readable content and the JWS compact serialisation that signs its canonical form."""

    content: dict[str, Any]
    jws: str

    kind: ClassVar[str] = ""
    """The file's key for the readable content: ``receipt`` or ``checkpoint``."""
    typ: ClassVar[str] = ""
    """The JWS ``typ`` header value of this kind of document."""
    schemas: ClassVar[Mapping[str, Schema]]
    """The schema of each version of this kind of document that verifies, by ``version``."""

    @property
    def chain_hash(self) -> str:
        """Lowercase hex SHA-256 of the JWS compact string's ASCII bytes.

        The hash covers header, payload and signature: the exact signed form, so a receipt
        re-signed under another key, or with other content, no longer links to its successor.
        """
        return hashlib.sha256(self.jws.encode("ascii")).hexdigest()

    @classmethod
    def from_jws(cls, compact: str) -> Self:
        """The document whose readable content is the JWS payload itself (not yet verified)."""
        return from_jws(compact, cls)

    def to_file(self) -> dict[str, Any]:
        """The downloadable file's JSON object."""
        return {self.kind: self.content, "jws": self.jws}

    def to_json(self) -> str:
        """The downloadable file's text: indented, the readable content first, a final newline."""
        return json.dumps(self.to_file(), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class Verified:
    """What a successful verification established: the signed content and the signing key."""

    content: dict[str, Any]
    kid: str
    chain_hash: str


def verify_signed(signed: Signed, public_keys: Mapping[str, Ed25519PublicKey]) -> Verified:
    """Check signature, key, readable-equals-signed and the content's schema, in that order.

    The schema is the one of the content's own ``version``: a log holds receipts of every
    version this service has issued, and each verifies as what it was signed as.
    """
    jws = verify_compact(signed.jws, public_keys, signed.typ)
    try:
        payload = json.loads(jws.payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedReceipt("malformed: the signed payload is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedReceipt("malformed: the signed payload is not a JSON object")
    difference = first_difference(signed.content, payload)
    if difference is not None:
        raise AlteredField(*difference)
    try:
        is_canonical = canonical(signed.content) == jws.payload
    except rfc8785.CanonicalizationError as exc:
        raise MalformedReceipt(f"malformed: the content cannot be canonicalised ({exc})") from None
    if not is_canonical:
        raise MalformedReceipt("malformed: the signed payload is not in RFC 8785 canonical form")
    version = payload.get("version")
    schema = signed.schemas.get(version) if isinstance(version, str) else None
    if schema is None:
        known = " or ".join(_show(known) for known in signed.schemas)
        found = f"version {_show(version)}" if "version" in payload else "no version"
        raise MalformedReceipt(f"malformed: {found}: expected a {signed.kind} of version {known}")
    problems = flatten(schema.validate(payload))
    if problems:
        field, message = problems[0]
        raise MalformedReceipt(
            f"malformed: not a version-{version} {signed.kind}: {field}: {message}"
        )
    return Verified(payload, jws.kid, signed.chain_hash)


def first_difference(
    readable: Mapping[str, Any], signed: Mapping[str, Any]
) -> tuple[str, str] | None:
    """The first field (in name order) where ``readable`` differs from ``signed``, and how.

    Values compare as JSON: ``1``, ``1.0`` and ``true`` are three different values.
    """
    for field in sorted(set(readable) | set(signed)):
        if field not in readable:
            return field, "missing from the readable copy, present in the signed one"
        if field not in signed:
            return field, "present in the readable copy, not in the signed one"
        if not same_json(readable[field], signed[field]):
            return field, (
                f"the readable copy says {_show(readable[field])}, "
                f"the signed one {_show(signed[field])}"
            )
    return None


def same_json(left: Any, right: Any) -> bool:
    """Equality of JSON values, types included (Python's ``True == 1`` is not JSON's)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return bool(left == right)


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def from_file(document: object, kinds: tuple[type[Signed], ...]) -> Signed:
    """The signed document a file's JSON object holds, of one of ``kinds``; not yet verified."""
    if not isinstance(document, dict):
        raise MalformedReceipt("malformed: expected a JSON object with the content and 'jws'")
    for kind in kinds:
        if kind.kind in document:
            extra = sorted(set(document) - {kind.kind, "jws"})
            if extra:
                raise MalformedReceipt(f"malformed: unexpected key(s) {', '.join(extra)}")
            if "jws" not in document:
                raise MalformedReceipt("malformed: the file has no 'jws'")
            if not isinstance(document[kind.kind], dict):
                raise MalformedReceipt(f"malformed: '{kind.kind}' is not a JSON object")
            if not isinstance(document["jws"], str):
                raise MalformedReceipt("malformed: 'jws' is not a string")
            return kind(document[kind.kind], document["jws"])
    names = " or ".join(f"'{kind.kind}'" for kind in kinds)
    raise MalformedReceipt(f"malformed: the file has no {names}")


def from_jws(compact: str, kind: type[_S]) -> _S:
    """The signed document whose readable content is the JWS payload itself; not yet verified."""
    payload = parse_compact(compact, kind.typ).payload
    try:
        content = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedReceipt("malformed: the signed payload is not JSON") from None
    if not isinstance(content, dict):
        raise MalformedReceipt("malformed: the signed payload is not a JSON object")
    return kind(content, compact)


def read_file(path: Path, kinds: tuple[type[Signed], ...]) -> Signed:
    """Read and parse a receipt or checkpoint file (at most :data:`MAX_FILE_BYTES`)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise MalformedReceipt(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise MalformedReceipt(f"malformed: {path} is larger than {MAX_FILE_BYTES} bytes")
    try:
        document = unique_keys.loads(data)
    except unique_keys.RepeatedKey as repeated:
        raise MalformedReceipt(f"malformed: {path} repeats the key '{repeated}'") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise MalformedReceipt(f"malformed: {path} is not JSON") from None
    return from_file(document, kinds)


class SignedReceipt(Signed):
    """A delivery receipt and its JWS (``typ: csins-receipt+jws``)."""

    kind = "receipt"
    typ = "csins-receipt+jws"
    schemas: ClassVar[Mapping[str, Schema]] = {
        version: schema() for version, schema in RECEIPT_SCHEMAS.items()
    }


class SignedCheckpoint(Signed):
    """A checkpoint of the receipt log's head and its JWS (``typ: csins-checkpoint+jws``)."""

    kind = "checkpoint"
    typ = "csins-checkpoint+jws"
    schemas: ClassVar[Mapping[str, Schema]] = {CHECKPOINT_VERSION: CheckpointSchema()}
