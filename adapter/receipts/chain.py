"""The receipt log as a hash chain, with signed checkpoints of its head (a tamper-evident log).

Receipt ``n`` records ``previous_receipt_sha256``, the :attr:`~Signed.chain_hash` of receipt
``n - 1`` (SHA-256 of its JWS compact string; 64 zeros for receipt 1). Walking the log in
sequence order then detects a deleted receipt (a gap), reordering or duplication, and an edited
receipt (its signature fails, or, if it was re-signed, its successor no longer links to it).
What a chain cannot show alone is a consistent rewrite of its whole tail by someone holding the
signing key; periodic checkpoints do: each is a signed ``{size, head_sha256, issued_at}`` kept
(and ideally published) outside the log, which the rewritten log no longer matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapter.clock import utcnow
from adapter.errors import InvalidRecord
from adapter.receipts.errors import (
    AlteredField,
    BadSignature,
    MalformedReceipt,
    UnknownKey,
    VerificationFailed,
)
from adapter.receipts.jws import canonical
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.receipt import format_utc
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt, Verified, verify_signed
from schemas.fields import flatten
from schemas.receipt import CHECKPOINT_VERSION, GENESIS_SHA256, CheckpointSchema

_CHECKPOINT_SCHEMA = CheckpointSchema()

_KINDS: Mapping[type[VerificationFailed], str] = {
    UnknownKey: "unknown_key",
    BadSignature: "signature",
    AlteredField: "altered",
    MalformedReceipt: "malformed",
}


@dataclass(frozen=True)
class ChainBreak:
    """Where verification of the log first failed, and why.

    ``sequence`` is the receipt at which the check failed; every receipt before it verified.
    ``kind`` is one of ``missing``, ``out_of_order``, ``duplicate``, ``signature``,
    ``unknown_key``, ``altered``, ``malformed``, ``link`` or ``checkpoint``.
    """

    sequence: int
    kind: str
    reason: str

    def __str__(self) -> str:
        return f"#{self.sequence}: {self.reason}"


def chain_hash(signed: SignedReceipt) -> str:
    """Lowercase hex SHA-256 of the receipt's JWS compact string: what its successor records."""
    return signed.chain_hash


def build_checkpoint(
    size: int, head_sha256: str, keyring: SigningKeyring, *, issued_at: dt.datetime | None = None
) -> SignedCheckpoint:
    """A signed checkpoint: the log holds ``size`` receipts, the last with chain hash ``head``."""
    content: dict[str, Any] = {
        "version": CHECKPOINT_VERSION,
        "size": size,
        "head_sha256": head_sha256,
        "issued_at": format_utc(issued_at or utcnow()),
    }
    problems = flatten(_CHECKPOINT_SCHEMA.validate(content))
    if problems:
        raise InvalidRecord(problems)
    if size == 0 and head_sha256 != GENESIS_SHA256:
        raise InvalidRecord([("head_sha256", "must be 64 zeros for an empty log")])
    return SignedCheckpoint(content, keyring.sign(canonical(content), SignedCheckpoint.typ))


def verify_checkpoint(
    signed: SignedCheckpoint, public_keys: Mapping[str, Ed25519PublicKey]
) -> Verified:
    """Verify one checkpoint on its own; raises a :class:`VerificationFailed` naming the reason."""
    return verify_signed(signed, public_keys)


def verify_chain(
    receipts: Iterable[SignedReceipt],
    checkpoints: Iterable[SignedCheckpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    first_sequence: int = 1,
    previous_sha256: str = GENESIS_SHA256,
) -> ChainBreak | None:
    """The first break in ``receipts`` (in sequence order from ``first_sequence``), or None.

    Each receipt is verified on its own, then its sequence number and its link to the one
    before; each checkpoint is verified, then compared with the log at its size. An audit may
    start mid-log from a trusted ``(first_sequence, previous_sha256)``; checkpoints of sizes
    before ``first_sequence - 1`` are then verified but not compared.
    """
    heads, problem = _verified_checkpoints(checkpoints, public_keys)
    if problem is not None:
        return problem
    last_matched = first_sequence - 1
    expected, previous = first_sequence, previous_sha256
    problem = _check_heads(heads, expected - 1, previous, last_matched)
    if problem is not None:
        return problem
    stream = iter(receipts)
    for signed in stream:
        try:
            verified = verify_signed(signed, public_keys)
        except VerificationFailed as exc:
            return ChainBreak(expected, _KINDS.get(type(exc), "malformed"), exc.reason)
        sequence = verified.content["sequence"]
        if sequence != expected:
            return _misplaced(expected, sequence, stream)
        if verified.content["previous_receipt_sha256"] != previous:
            return ChainBreak(
                expected,
                "link",
                (
                    f"previous_receipt_sha256 of receipt #{expected} does not match receipt "
                    f"#{expected - 1}: one of them was altered or replaced"
                ),
            )
        previous = verified.chain_hash
        problem = _check_heads(heads, expected, previous, last_matched)
        if problem is not None:
            return problem
        if expected in heads:
            last_matched = expected
        expected += 1
    beyond = sorted(size for size in heads if size >= expected)
    if beyond:
        size = beyond[-1]
        gone = f"#{expected} is" if size == expected else f"#{expected} to #{size} are"
        return ChainBreak(
            expected,
            "missing",
            f"the log ends at #{expected - 1} but a checkpoint issued at {heads[size][0][1]} "
            f"covers {size} receipts: {gone} missing",
        )
    return None


def _verified_checkpoints(
    checkpoints: Iterable[SignedCheckpoint], public_keys: Mapping[str, Ed25519PublicKey]
) -> tuple[dict[int, list[tuple[str, str]]], ChainBreak | None]:
    """Checkpoints by size as ``(head_sha256, issued_at)`` pairs, or the first forged one."""
    heads: dict[int, list[tuple[str, str]]] = {}
    for signed in checkpoints:
        try:
            content = verify_signed(signed, public_keys).content
        except VerificationFailed as exc:
            claimed = signed.content.get("size")
            size = claimed if isinstance(claimed, int) and not isinstance(claimed, bool) else 0
            issued = signed.content.get("issued_at", "?")
            return heads, ChainBreak(
                size, "checkpoint", f"checkpoint of size {size} issued at {issued}: {exc.reason}"
            )
        heads.setdefault(content["size"], []).append((content["head_sha256"], content["issued_at"]))
    return heads, None


def _check_heads(
    heads: Mapping[int, list[tuple[str, str]]], size: int, head: str, last_matched: int
) -> ChainBreak | None:
    """Compare the log's head after receipt ``size`` with every checkpoint of that size."""
    for head_sha256, issued_at in heads.get(size, ()):
        if head_sha256 != head:
            return ChainBreak(
                size,
                "checkpoint",
                (
                    f"the log does not match the checkpoint of size {size} issued at {issued_at}: "
                    f"a receipt from #{last_matched + 1} to #{size} was rewritten"
                ),
            )
    return None


def _misplaced(expected: int, found: object, rest: Iterable[SignedReceipt]) -> ChainBreak:
    """Explain a receipt whose sequence number is not the next one expected."""
    if isinstance(found, int) and found < expected:
        return ChainBreak(
            expected, "duplicate", f"expected receipt #{expected}, found #{found} again"
        )
    later = any(signed.content.get("sequence") == expected for signed in rest)
    if later:
        return ChainBreak(
            expected,
            "out_of_order",
            f"expected receipt #{expected}, found #{found}: the log is out of order",
        )
    return ChainBreak(
        expected, "missing", f"receipt #{expected} is missing: the next one is #{found}"
    )
