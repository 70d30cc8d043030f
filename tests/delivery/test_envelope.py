"""The envelope: exact, deterministic bytes and what each hash covers (DESIGN.md §6)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from adapter.delivery import Delivery, InvalidDelivery, check_envelope, encode_envelope
from adapter.delivery.envelope import ENVELOPE_KEYS, canonical_json
from tests.delivery.helpers import make_delivery, uploaded_document_payload


def test_the_envelope_holds_exactly_the_designed_keys():
    envelope = json.loads(encode_envelope(make_delivery()))
    assert set(envelope) == ENVELOPE_KEYS
    assert envelope["delivery_id"] == "dlv_01JD0000000000000000000001"
    assert envelope["local_authority"] == "812"
    assert envelope["version"] == 1


def test_the_bytes_are_canonical_and_the_same_every_time():
    body = encode_envelope(make_delivery())
    assert body == encode_envelope(make_delivery())
    assert body == canonical_json(json.loads(body))  # sorted keys, no whitespace
    assert b" " not in body.replace(b"NEL-2026-014", b"")
    reordered = make_delivery(payload=dict(reversed(list(make_delivery().payload.items()))))
    assert encode_envelope(reordered) == body


def test_payload_sha256_covers_the_canonical_json_of_the_payload():
    delivery = make_delivery()
    expected = hashlib.sha256(canonical_json(dict(delivery.payload))).hexdigest()
    assert delivery.payload_sha256 == expected
    assert json.loads(encode_envelope(delivery))["payload_sha256"] == expected


def test_payload_sha256_of_an_uploaded_document_covers_the_file_bytes():
    content = b"%PDF-1.7\x00\xff binary rapid review"
    delivery = make_delivery(document="rapid_review", payload=uploaded_document_payload(content))
    assert delivery.payload_sha256 == hashlib.sha256(content).hexdigest()
    envelope = check_envelope(encode_envelope(delivery))
    assert base64.b64decode(envelope["payload"]["attachment"]["content_base64"]) == content


def test_check_envelope_refuses_a_payload_that_does_not_match_its_hash():
    envelope = json.loads(encode_envelope(make_delivery()))
    envelope["payload"]["version"] = 2
    with pytest.raises(InvalidDelivery, match="payload_sha256"):
        check_envelope(json.dumps(envelope).encode())


def test_check_envelope_refuses_missing_or_extra_keys():
    envelope = json.loads(encode_envelope(make_delivery()))
    del envelope["version"]
    envelope["child_name"] = "x"
    with pytest.raises(InvalidDelivery, match="missing \\['version'\\], unexpected \\['child"):
        check_envelope(json.dumps(envelope).encode())
    with pytest.raises(InvalidDelivery, match="not JSON"):
        check_envelope(b"\xff")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("delivery_id", "has.a.dot"),
        ("delivery_id", ""),
        ("delivery_id", "x" * 129),
        ("version", 0),
        ("version", True),
        ("document", ""),
        ("local_authority", None),
    ],
)
def test_a_delivery_that_cannot_be_sent_is_refused_up_front(field, value):
    with pytest.raises(InvalidDelivery):
        make_delivery(**{field: value})


def test_bad_base64_in_an_uploaded_document_is_refused():
    payload = uploaded_document_payload()
    payload["attachment"]["content_base64"] = "not base64!"
    with pytest.raises(InvalidDelivery, match="content_base64"):
        _ = make_delivery(payload=payload).payload_sha256


def test_a_float_that_json_cannot_carry_is_refused():
    with pytest.raises(InvalidDelivery, match="canonical JSON"):
        encode_envelope(make_delivery(payload={"score": float("nan")}))


def other_fields() -> dict[str, object]:
    """A delivery's fields but its payload, as ``Delivery.from_canonical`` takes them."""
    return {k: v for k, v in vars(make_delivery()).items() if k not in ("payload", "payload_json")}


@pytest.mark.parametrize(
    "payload",
    [
        make_delivery().payload,
        uploaded_document_payload(b"\x00\xff%PDF"),
        {"name": "Zoë \u2028 \U0001f600", "score": 1.5e-7, "big": 2**53 - 1, "list": [None, True]},
    ],
)
def test_stored_canonical_bytes_are_sent_as_they_are_with_the_same_envelope(payload):
    stored = canonical_json(dict(payload))
    fields = other_fields()
    from_store = Delivery.from_canonical(stored, **fields)
    built = make_delivery(payload=payload)
    assert from_store.payload == json.loads(stored)
    assert encode_envelope(from_store) == encode_envelope(built)
    assert encode_envelope(built) == canonical_json(built.envelope())
    assert from_store.payload_sha256 == built.payload_sha256
    check_envelope(encode_envelope(from_store))


def test_stored_bytes_that_are_not_a_json_object_are_refused():
    fields = other_fields()
    with pytest.raises(InvalidDelivery, match="payload"):
        Delivery.from_canonical(b"[1]", **fields)
    with pytest.raises(InvalidDelivery, match="payload"):
        Delivery.from_canonical(b"\xff", **fields)
