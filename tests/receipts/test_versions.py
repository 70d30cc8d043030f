"""Receipt versions (DESIGN.md §6): version 2 added ``document_sha256``, version 3 says who or what
acknowledged the delivery; versions 1 and 2 still verify.

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


VERSION_3_FIELDS = {"acknowledged_by", "confirmed_by", "acknowledgement"}
"""What version 3 adds to version 2."""


def as_version_1(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as the release before version 2 wrote it: no ``document_sha256``."""
    old = {
        key: value
        for key, value in content.items()
        if key != "document_sha256" and key not in VERSION_3_FIELDS
    }
    old["version"] = "1"
    assert set(old) == release_1_fields()
    return old


def as_version_2(content: dict[str, Any]) -> dict[str, Any]:
    """``content`` as the releases before version 3 wrote it."""
    old = {key: value for key, value in content.items() if key not in VERSION_3_FIELDS}
    old["version"] = "2"
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


def test_a_new_receipt_is_version_3_with_the_document_hash_and_who_acknowledged(receipt):
    assert receipt.content["version"] == "3"
    assert set(receipt.content) == release_1_fields() | {"document_sha256"} | VERSION_3_FIELDS
    assert receipt.content["acknowledged_by"] == "addressee"
    assert receipt.content["confirmed_by"] is None
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
        ("4", True, 'version "4": expected a receipt of version "1" or "2" or "3"'),
        (2, True, 'version 2: expected a receipt of version "1" or "2" or "3"'),
        (None, True, 'version null: expected a receipt of version "1" or "2" or "3"'),
    ],
    ids=["2", "1", "2-without", "1-with", "unknown", "number", "null"],
)
def test_each_version_has_exactly_its_own_fields(keyring, receipt, version, document_hash, reason):
    """Signed by the service's own key, so only the content's version decides."""
    content = {k: v for k, v in receipt.content.items() if k not in VERSION_3_FIELDS}
    content["version"] = version
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


def test_version_2_is_refused_the_fields_of_version_3_and_version_3_needs_them(keyring, receipt):
    with pytest.raises(MalformedReceipt, match="not a version-2 receipt: acknowledged_by"):
        verify_receipt(
            sign_receipt({**receipt.content, "version": "2"}, keyring), keyring.public_keys
        )
    missing = {k: v for k, v in receipt.content.items() if k != "acknowledgement"}
    with pytest.raises(MalformedReceipt, match="not a version-3 receipt: acknowledgement"):
        verify_receipt(sign_receipt(missing, keyring), keyring.public_keys)


@pytest.mark.parametrize(
    ("channel", "acknowledged_by", "confirmed_by", "reason"),
    [
        ("https", "addressee", None, None),
        ("smtp", "mail_relay", None, None),
        ("csins", "person", "Sam Patel", None),
        ("csins", "person", None, "confirmed_by: names the person"),
        ("smtp", "mail_relay", "Sam Patel", "confirmed_by: names the person"),
        ("smtp", "addressee", None, "acknowledged_by: a smtp delivery is acknowledged by"),
        ("https", "person", "Sam Patel", "acknowledged_by: a https delivery"),
    ],
)
def test_version_3_says_who_acknowledged_as_the_channel_does(
    keyring, channel, acknowledged_by, confirmed_by, reason
):
    content = build_receipt(
        make_facts(channel=channel, confirmed_by="Sam Patel" if channel == "csins" else None),
        sequence=1,
        previous_receipt_sha256=GENESIS_SHA256,
        issued_at=ISSUED_AT,
    )
    content.update(acknowledged_by=acknowledged_by, confirmed_by=confirmed_by)
    signed = sign_receipt(content, keyring)
    if reason is None:
        assert verify_receipt(signed, keyring.public_keys).content == content
    else:
        with pytest.raises(MalformedReceipt, match=reason):
            verify_receipt(signed, keyring.public_keys)


def test_the_acknowledgement_of_each_channel_says_what_it_proves():
    def sentence(**facts: Any) -> str:
        content = build_receipt(
            make_facts(**facts), sequence=1, previous_receipt_sha256=GENESIS_SHA256
        )
        return str(content["acknowledgement"])

    assert "endpoint" in sentence(channel="https")
    mail = sentence(channel="smtp", addressee_status="250 2.0.0", addressee_reference="<m@x>")
    assert "what SMTP can prove" in mail and "<m@x>" in mail and "250 2.0.0" in mail
    person = sentence(
        channel="csins",
        destination="https://www.gov.uk/x",
        addressee_status="confirmed",
        addressee_reference="CSINS-1",
        confirmed_by="Sam Patel",
    )
    assert person.startswith("Confirmed by a person: Sam Patel") and "CSINS-1" in person


def test_a_log_of_versions_1_2_and_3_verifies_as_one_chain(keyring):
    log, previous = [], GENESIS_SHA256
    for sequence in (1, 2):
        old = issue_version_1(sequence, previous, keyring)
        log.append(old)
        previous = old.chain_hash
    content = build_receipt(
        make_facts(delivery_id="dlv-0003"),
        sequence=3,
        previous_receipt_sha256=previous,
        issued_at=ISSUED_AT,
    )
    middle = sign_receipt(as_version_2(content), keyring)
    log.append(middle)
    previous = middle.chain_hash
    new = issue_receipt(
        make_facts(delivery_id="dlv-0004"),
        sequence=4,
        previous_receipt_sha256=previous,
        keyring=keyring,
    )
    log.append(new)
    assert [signed.content["version"] for signed in log] == ["1", "1", "2", "3"]
    assert (
        verify_chain(log, [build_checkpoint(4, new.chain_hash, keyring)], keyring.public_keys)
        is None
    )


def test_a_log_of_version_1_then_current_receipts_verifies_as_one_chain(keyring):
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

    assert [signed.content["version"] for signed in log] == ["1", "1", "1", "3", "3"]
    assert verify_chain(log, [checkpoint], keyring.public_keys) is None
