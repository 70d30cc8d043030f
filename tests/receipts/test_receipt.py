"""One receipt (DESIGN.md §6): its content, signing, and every way verification must fail."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from adapter.errors import InvalidRecord
from adapter.receipts import (
    GENESIS_SHA256,
    AlteredField,
    BadSignature,
    MalformedReceipt,
    SignedReceipt,
    UnknownKey,
    build_receipt,
    sign_receipt,
    verify_receipt,
)
from adapter.receipts.jws import b64url, b64url_decode, canonical
from schemas.receipt import ReceiptSchema
from tests.receipts.conftest import ISSUED_AT, make_facts, make_keyring

RECEIPT_FIELDS = sorted(ReceiptSchema().fields)


def altered(value: Any) -> Any:
    """A different JSON value of the same type (or a string in place of null)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return "X-1"
    return value[:-1] + ("0" if value[-1] != "0" else "1")


def test_round_trip(keyring, receipt):
    verified = verify_receipt(receipt, keyring.public_keys)
    assert verified.content == receipt.content
    assert verified.kid == keyring.current_kid
    assert verified.chain_hash == receipt.chain_hash


def test_content_is_the_documented_contract(receipt):
    assert set(receipt.content) == set(RECEIPT_FIELDS)
    assert receipt.content["version"] == "3"
    assert receipt.content["acknowledged_by"] == "addressee"
    assert receipt.content["document_sha256"] == make_facts().document_sha256
    assert receipt.content["payload_sha256"] == make_facts().payload_sha256
    assert receipt.content["sequence"] == 1
    assert receipt.content["previous_receipt_sha256"] == GENESIS_SHA256
    assert receipt.content["first_attempt_at"] == "2026-11-23T10:15:30Z"
    assert receipt.content["acknowledged_at"] == "2026-11-23T10:16:45Z"
    assert receipt.content["due_at"] == "2026-11-30T23:59:59+00:00"
    assert receipt.content["on_time"] is True


def test_the_file_round_trips_through_json(keyring, receipt):
    document = json.loads(receipt.to_json())
    assert list(document) == ["receipt", "jws"]
    again = SignedReceipt(document["receipt"], document["jws"])
    assert verify_receipt(again, keyring.public_keys).content == receipt.content


def test_the_jws_header_names_algorithm_key_and_type(keyring, receipt):
    header = json.loads(b64url_decode(receipt.jws.split(".")[0]))
    assert header == {"alg": "EdDSA", "kid": keyring.current_kid, "typ": "csins-receipt+jws"}
    assert b64url_decode(receipt.jws.split(".")[1]) == canonical(receipt.content)


@pytest.mark.parametrize("field", RECEIPT_FIELDS)
def test_every_altered_field_is_named(keyring, receipt, field):
    content = copy.deepcopy(receipt.content)
    content[field] = altered(content[field])
    with pytest.raises(AlteredField) as caught:
        verify_receipt(SignedReceipt(content, receipt.jws), keyring.public_keys)
    assert caught.value.field == field
    assert f"altered field '{field}'" in caught.value.reason


@pytest.mark.parametrize("field", RECEIPT_FIELDS)
def test_every_removed_field_is_named(keyring, receipt, field):
    content = {k: v for k, v in receipt.content.items() if k != field}
    with pytest.raises(AlteredField, match=f"'{field}': missing from the readable copy"):
        verify_receipt(SignedReceipt(content, receipt.jws), keyring.public_keys)


def test_an_added_field_is_named(keyring, receipt):
    content = {**receipt.content, "on_time_really": True}
    with pytest.raises(AlteredField, match="'on_time_really': present in the readable copy"):
        verify_receipt(SignedReceipt(content, receipt.jws), keyring.public_keys)


@pytest.mark.parametrize(
    ("field", "value"), [("attempts", 2.0), ("on_time", 1), ("sequence", True)]
)
def test_a_value_of_another_json_type_is_an_alteration(keyring, receipt, field, value):
    content = {**receipt.content, field: value}
    with pytest.raises(AlteredField) as caught:
        verify_receipt(SignedReceipt(content, receipt.jws), keyring.public_keys)
    assert caught.value.field == field


def test_a_flipped_signature_byte_is_a_bad_signature(keyring, receipt):
    header, payload, signature = receipt.jws.split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[10] ^= 0x01
    forged = SignedReceipt(receipt.content, f"{header}.{payload}.{b64url(bytes(flipped))}")
    with pytest.raises(BadSignature, match="bad signature"):
        verify_receipt(forged, keyring.public_keys)


def test_a_changed_signed_payload_is_a_bad_signature(keyring, receipt):
    content = {**receipt.content, "addressee": "ofsted"}
    header, _, signature = receipt.jws.split(".")
    forged = SignedReceipt(content, f"{header}.{b64url(canonical(content))}.{signature}")
    with pytest.raises(BadSignature):
        verify_receipt(forged, keyring.public_keys)


def test_a_key_the_jwks_does_not_publish_is_unknown(receipt):
    other = make_keyring()
    with pytest.raises(UnknownKey) as caught:
        verify_receipt(receipt, other.public_keys)
    assert caught.value.kid in caught.value.reason


def test_a_receipt_resigned_by_another_key_is_unknown(keyring, receipt):
    forged = sign_receipt(receipt.content, make_keyring())
    with pytest.raises(UnknownKey):
        verify_receipt(forged, keyring.public_keys)


@pytest.mark.parametrize(
    ("jws", "reason"),
    [
        ("not-a-jws", "three dot-separated parts"),
        ("a.b.c.d", "three dot-separated parts"),
        ("###.###.###", "not base64url"),
        (f"{b64url(b'not json')}.{b64url(b'{}')}.{b64url(b'x')}", "not base64url-encoded JSON"),
    ],
)
def test_malformed_jws(keyring, receipt, jws, reason):
    with pytest.raises(MalformedReceipt, match=reason):
        verify_receipt(SignedReceipt(receipt.content, jws), keyring.public_keys)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "none", "kid": "k", "typ": "csins-receipt+jws"}, "algorithm 'none'"),
        ({"alg": "EdDSA", "typ": "csins-receipt+jws"}, "no 'kid'"),
        ({"alg": "EdDSA", "kid": "k", "typ": "csins-checkpoint+jws"}, "type"),
        ({"alg": "EdDSA", "kid": "k", "typ": "csins-receipt+jws", "crit": ["b64"]}, "unexpected"),
    ],
)
def test_headers_other_than_ours_are_refused(keyring, receipt, header, reason):
    _, payload, signature = receipt.jws.split(".")
    jws = f"{b64url(canonical(header))}.{payload}.{signature}"
    with pytest.raises(MalformedReceipt, match=reason):
        verify_receipt(SignedReceipt(receipt.content, jws), keyring.public_keys)


def test_non_canonical_base64url_is_refused():
    assert b64url_decode("AA") == b"\x00"
    with pytest.raises(ValueError):
        b64url_decode("AB")  # the same byte with stray low bits
    with pytest.raises(ValueError):
        b64url_decode("AA==")


def test_a_signed_payload_that_is_not_canonical_is_refused(keyring, receipt):
    spaced = json.dumps(receipt.content).encode()
    forged = SignedReceipt(receipt.content, keyring.sign(spaced, SignedReceipt.typ))
    with pytest.raises(MalformedReceipt, match="RFC 8785 canonical form"):
        verify_receipt(forged, keyring.public_keys)


def test_signed_content_that_is_not_a_receipt_is_refused(keyring, receipt):
    content = {**receipt.content, "sequence": True}
    with pytest.raises(MalformedReceipt, match="sequence: expected a JSON integer"):
        verify_receipt(sign_receipt(content, keyring), keyring.public_keys)


def build(**overrides: Any) -> dict[str, Any]:
    return build_receipt(
        make_facts(**overrides),
        sequence=1,
        previous_receipt_sha256=GENESIS_SHA256,
        issued_at=ISSUED_AT,
    )


def test_due_at_is_the_end_of_the_due_day_in_london_with_its_offset():
    summer = build(
        due_on=dt.date(2026, 6, 30),
        first_attempt_at=dt.datetime(2026, 6, 29, 9, 0, tzinfo=dt.UTC),
        acknowledged_at=dt.datetime(2026, 6, 29, 9, 1, tzinfo=dt.UTC),
    )
    assert summer["due_at"] == "2026-06-30T23:59:59+01:00"
    assert build()["due_at"] == "2026-11-30T23:59:59+00:00"


@pytest.mark.parametrize(
    ("acknowledged_at", "on_time"),
    [
        (dt.datetime(2026, 6, 30, 22, 59, 59, tzinfo=dt.UTC), True),  # 23:59:59 BST on the day
        (dt.datetime(2026, 6, 30, 23, 0, 0, tzinfo=dt.UTC), False),  # 00:00 BST the day after
    ],
)
def test_on_time_means_acknowledged_by_the_end_of_the_due_day_in_london(acknowledged_at, on_time):
    receipt = build(
        due_on=dt.date(2026, 6, 30),
        first_attempt_at=dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC),
        acknowledged_at=acknowledged_at,
    )
    assert receipt["on_time"] is on_time


def test_times_are_utc_to_the_second():
    moment = dt.datetime(
        2026, 11, 23, 10, 16, 45, 999_999, tzinfo=dt.timezone(dt.timedelta(hours=5))
    )
    receipt = build(first_attempt_at=moment, acknowledged_at=moment)
    assert receipt["acknowledged_at"] == "2026-11-23T05:16:45Z"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"document": "postcard"}, "document"),
        ({"addressee": "the_press"}, "addressee"),
        ({"channel": "fax"}, "channel"),
        ({"attempts": 0}, "attempts"),
        ({"payload_sha256": "ABC"}, "payload_sha256"),
        ({"document_sha256": ""}, "document_sha256"),
        ({"document_sha256": "A" * 64}, "document_sha256"),
        ({"local_authority_code": "81"}, "local_authority_code"),
        ({"addressee_status": ""}, "addressee_status"),
        ({"first_attempt_at": dt.datetime(2026, 11, 24, tzinfo=dt.UTC)}, "acknowledged_at"),
        ({"acknowledged_at": dt.datetime(2026, 11, 23, 10, 16)}, "_schema"),
    ],
)
def test_bad_facts_are_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidRecord) as caught:
        build(**overrides)
    assert field in [path for path, _ in caught.value.problems]


def test_the_first_receipt_must_follow_the_genesis_hash():
    with pytest.raises(InvalidRecord, match="previous_receipt_sha256"):
        build_receipt(make_facts(), sequence=1, previous_receipt_sha256="a" * 64)
