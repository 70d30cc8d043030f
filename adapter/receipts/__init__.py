"""Signed delivery receipts: RFC 8785 canonical JSON, Ed25519 JWS, a hash chain and checkpoints.

On every acknowledged delivery the service issues one receipt (DESIGN.md §6) that a compliance
officer can hand to someone who does not trust the service: it verifies offline against the
published JWKS (see ``VERIFYING.md``), and the chain of receipts shows none was removed,
reordered or rewritten.

The pieces: :mod:`.receipt` (build, sign, verify one receipt), :mod:`.chain` (the log and its
checkpoints), :mod:`.keys` (the signing keyring), :mod:`.jwks` (published keys),
:mod:`.jws` (canonical JSON and compact JWS), :mod:`.signed` (receipt files), :mod:`.errors`.
"""

from adapter.receipts.chain import ChainBreak, build_checkpoint, verify_chain, verify_checkpoint
from adapter.receipts.errors import (
    AlteredField,
    BadSignature,
    KeyringError,
    MalformedJwks,
    MalformedReceipt,
    ReceiptError,
    UnknownKey,
    VerificationFailed,
)
from adapter.receipts.jwks import public_keys_from_jwks, read_jwks
from adapter.receipts.keys import SigningKeyring, create_signing_key, load_keyring
from adapter.receipts.receipt import (
    DeliveryFacts,
    build_receipt,
    issue_receipt,
    payload_sha256,
    sign_receipt,
    verify_receipt,
)
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt, Verified
from schemas.receipt import GENESIS_SHA256

__all__ = [
    "GENESIS_SHA256",
    "AlteredField",
    "BadSignature",
    "ChainBreak",
    "DeliveryFacts",
    "KeyringError",
    "MalformedJwks",
    "MalformedReceipt",
    "ReceiptError",
    "SignedCheckpoint",
    "SignedReceipt",
    "SigningKeyring",
    "UnknownKey",
    "VerificationFailed",
    "Verified",
    "build_checkpoint",
    "build_receipt",
    "create_signing_key",
    "issue_receipt",
    "load_keyring",
    "payload_sha256",
    "public_keys_from_jwks",
    "read_jwks",
    "sign_receipt",
    "verify_chain",
    "verify_checkpoint",
    "verify_receipt",
]
