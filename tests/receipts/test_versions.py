"""Receipt versions (DESIGN.md §6): version 2 adds ``document_sha256``; version 1 still verifies.

A deployment's log keeps the version 1 receipts issued before ``document_sha256`` existed, signed
as they were: each must still verify alone (``receipts verify``) and chained with the version 2
receipts after it (``receipts audit``). ``data/receipt-v1.json`` was issued by the code of the
release before version 2 itself; ``data/jwks-v1.json`` publishes the key that signed it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter.receipts import (
    GENESIS_SHA256,
    MalformedReceipt,
    SignedReceipt,
    SigningKeyring,
    build_checkpoint,
    build_receipt,
    issue_receipt,
    read_jwks,
    sign_receipt,
    verify_chain,
    verify_receipt,
)
from tests.receipts.conftest import ISSUED_AT, make_facts
from tests.receipts.test_cli import run

DATA = Path(__file__).resolve().parent / "data"
RELEASE_1_RECEIPT = DATA / "receipt-v1.json"
RELEASE_1_JWKS = DATA / "jwks-v1.json"


def release_1_fields() -> set[str]:
    """The fields of a receipt as the release before version 2 issued it."""
    return set(json.loads(RELEASE_1_RECEIPT.read_text(encoding="utf-8"))["receipt"])


def as_version_1(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as the release before version 2 wrote it: no ``document_sha256``."""
    old = {key: value for key, value in content.items() if key != "document_sha256"}
    old["version"] = "1"
    assert set(old) == release_1_fields()
    return old


def issue_version_1(sequence: int, previous: str, keyring: SigningKeyring) -> SignedReceipt:
    content = build_receipt(
        make_facts(delivery_id=f"dlv-{sequence:04d}"),
        sequence=sequence,
        previous_receipt_sha256=previous,
        receipt_id=f"rcpt-{sequence:04d}",
        issued_at=ISSUED_AT,
    )
    return sign_receipt(as_version_1(content), keyring)


def test_a_new_receipt_is_version_2_with_the_document_hash(receipt):
    assert receipt.content["version"] == "2"
    assert set(receipt.content) == release_1_fields() | {"document_sha256"}
    assert receipt.content["document_sha256"] == make_facts().document_sha256
    assert receipt.content["document_sha256"] != receipt.content["payload_sha256"]


def test_a_receipt_the_release_before_issued_still_verifies(tmp_path):
    document = json.loads(RELEASE_1_RECEIPT.read_text(encoding="utf-8"))
    signed = SignedReceipt(document["receipt"], document["jws"])
    assert verify_receipt(signed, read_jwks(str(RELEASE_1_JWKS))).content == document["receipt"]

    code, out, err = run(RELEASE_1_RECEIPT, "--jwks", RELEASE_1_JWKS)
    assert (code, err) == (0, "")
    assert out.startswith(f"valid: receipt {document['receipt']['receipt_id']} #1 ")


@pytest.mark.parametrize(
    ("version", "document_hash", "reason"),
    [
        ("2", True, None),
        ("1", False, None),
        ("2", False, "not a version-2 receipt: document_sha256: Missing data"),
        ("1", True, "not a version-1 receipt: document_sha256: Unknown field"),
        ("3", True, 'version "3": expected a receipt of version "1" or "2"'),
        (2, True, 'version 2: expected a receipt of version "1" or "2"'),
        (None, True, 'version null: expected a receipt of version "1" or "2"'),
    ],
    ids=["2", "1", "2-without", "1-with", "unknown", "number", "null"],
)
def test_each_version_has_exactly_its_own_fields(keyring, receipt, version, document_hash, reason):
    """Signed by the service's own key, so only the content's version decides."""
    content = {**receipt.content, "version": version}
    if not document_hash:
        del content["document_sha256"]
    signed = sign_receipt(content, keyring)
    if reason is None:
        assert verify_receipt(signed, keyring.public_keys).content == content
    else:
        with pytest.raises(MalformedReceipt, match=reason):
            verify_receipt(signed, keyring.public_keys)


def test_a_receipt_without_a_version_is_malformed(keyring, receipt):
    content = {key: value for key, value in receipt.content.items() if key != "version"}
    with pytest.raises(MalformedReceipt, match='no version: expected a receipt of version "1"'):
        verify_receipt(sign_receipt(content, keyring), keyring.public_keys)


def test_a_log_of_version_1_then_version_2_receipts_verifies_as_one_chain(keyring):
    log, previous = [], GENESIS_SHA256
    for sequence in range(1, 4):
        old = issue_version_1(sequence, previous, keyring)
        log.append(old)
        previous = old.chain_hash
    checkpoint = build_checkpoint(3, previous, keyring)
    for sequence in range(4, 6):
        new = issue_receipt(
            make_facts(delivery_id=f"dlv-{sequence:04d}"),
            sequence=sequence,
            previous_receipt_sha256=previous,
            keyring=keyring,
        )
        log.append(new)
        previous = new.chain_hash

    assert [signed.content["version"] for signed in log] == ["1", "1", "1", "2", "2"]
    assert verify_chain(log, [checkpoint], keyring.public_keys) is None
