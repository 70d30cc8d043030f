"""Standard Webhooks signing and verification (spec/standard-webhooks.md), with its test vector."""

from __future__ import annotations

import pytest

from adapter.delivery import SignatureError, WebhookHeaderError, defaults
from adapter.delivery.signing import (
    Scheme,
    SigningKey,
    VerifyingKey,
    new_key,
    parse_signing_keys,
    signature_header,
    verify_webhook,
)

# The reference library's sign() test: standard-webhooks libraries/python/tests/test_webhooks.py
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(
    key_text: str, body: bytes = SPEC_BODY, timestamp: int = SPEC_TIMESTAMP
) -> dict[str, str]:
    key = SigningKey.parse(key_text)
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header([key], SPEC_ID, timestamp, body),
    }


def test_v1_matches_the_spec_test_vector():
    key = SigningKey.parse(SPEC_SECRET)
    assert signature_header([key], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_the_spec_vector_verifies_and_a_changed_signature_does_not():
    trusted = [VerifyingKey.parse(SPEC_SECRET)]
    sent = {
        "Webhook-Id": SPEC_ID,
        "Webhook-Timestamp": str(SPEC_TIMESTAMP),
        "Webhook-Signature": SPEC_SIGNATURE,
    }
    assert (
        verify_webhook(sent, SPEC_BODY, trusted, now=SPEC_TIMESTAMP, tolerance_seconds=300)
        is Scheme.V1
    )
    sent["Webhook-Signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    with pytest.raises(SignatureError):
        verify_webhook(sent, SPEC_BODY, trusted, now=SPEC_TIMESTAMP, tolerance_seconds=300)


@pytest.mark.parametrize(
    ("signing", "verifying", "scheme"),
    [
        (defaults.SANDBOX_DEV_HMAC_SECRET, defaults.SANDBOX_DEV_HMAC_SECRET, Scheme.V1),
        (defaults.SANDBOX_DEV_SIGNING_KEY, defaults.SANDBOX_DEV_PUBLIC_KEY, Scheme.V1A),
    ],
)
def test_v1_and_v1a_round_trip(signing, verifying, scheme):
    sent = headers(signing)
    assert sent["webhook-signature"].startswith(f"{scheme.value},")
    assert (
        verify_webhook(
            sent,
            SPEC_BODY,
            [VerifyingKey.parse(verifying)],
            now=SPEC_TIMESTAMP,
            tolerance_seconds=300,
        )
        is scheme
    )


@pytest.mark.parametrize(
    "signing", [defaults.SANDBOX_DEV_HMAC_SECRET, defaults.SANDBOX_DEV_SIGNING_KEY]
)
def test_a_tampered_body_or_a_wrong_key_is_rejected(signing):
    trusted = [VerifyingKey.parse(signing)]
    sent = headers(signing)
    with pytest.raises(SignatureError, match="no signature"):
        verify_webhook(sent, SPEC_BODY + b" ", trusted, now=SPEC_TIMESTAMP, tolerance_seconds=300)
    other = [VerifyingKey.parse(new_key(trusted[0].scheme)[1])]
    with pytest.raises(SignatureError, match="no signature"):
        verify_webhook(sent, SPEC_BODY, other, now=SPEC_TIMESTAMP, tolerance_seconds=300)


def test_a_v1_signature_does_not_pass_for_a_v1a_key_of_the_same_bytes():
    sent = headers(defaults.SANDBOX_DEV_HMAC_SECRET)
    sent["webhook-signature"] = sent["webhook-signature"].replace("v1,", "v1a,")
    with pytest.raises(SignatureError):
        verify_webhook(
            sent,
            SPEC_BODY,
            [VerifyingKey.parse(defaults.SANDBOX_DEV_HMAC_SECRET)],
            now=SPEC_TIMESTAMP,
            tolerance_seconds=300,
        )


def test_several_signatures_space_separated_any_one_may_match():
    old, new = SigningKey.parse(new_key(Scheme.V1)[0]), SigningKey.parse(SPEC_SECRET)
    header = signature_header([old, new], SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert header.split(" ")[1] == SPEC_SIGNATURE
    sent = {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": "v2,bm9wZQ== garbage " + header,
    }
    assert (
        verify_webhook(
            sent,
            SPEC_BODY,
            [VerifyingKey.parse(SPEC_SECRET)],
            now=SPEC_TIMESTAMP,
            tolerance_seconds=300,
        )
        is Scheme.V1
    )


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_timestamp_outside_the_tolerance_is_a_header_error(offset):
    sent = headers(SPEC_SECRET)
    with pytest.raises(WebhookHeaderError, match="too old or too new"):
        verify_webhook(
            sent,
            SPEC_BODY,
            [VerifyingKey.parse(SPEC_SECRET)],
            now=SPEC_TIMESTAMP + offset,
            tolerance_seconds=300,
        )


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_a_header_error(missing):
    sent = headers(SPEC_SECRET)
    del sent[missing]
    with pytest.raises(WebhookHeaderError):
        verify_webhook(
            sent,
            SPEC_BODY,
            [VerifyingKey.parse(SPEC_SECRET)],
            now=SPEC_TIMESTAMP,
            tolerance_seconds=300,
        )


def test_the_development_public_key_is_the_half_of_the_development_secret_key():
    derived = SigningKey.parse(defaults.SANDBOX_DEV_SIGNING_KEY).verifying_key().serialise()
    assert derived == defaults.SANDBOX_DEV_PUBLIC_KEY


@pytest.mark.parametrize(
    "text",
    ["", "secret", "whsec_c2hvcnQ=", "whsk_c2hvcnQ=", "whsec_***", "whpk_AAAA"],
)
def test_malformed_keys_are_refused_without_echoing_them(text):
    with pytest.raises(SignatureError) as caught:
        parse_signing_keys(text) if not text.startswith("whpk_") else VerifyingKey.parse(text)
    assert "c2hvcnQ" not in str(caught.value)


def test_key_repr_never_shows_material():
    key = SigningKey.parse(defaults.SANDBOX_DEV_SIGNING_KEY)
    assert repr(key) == "SigningKey(v1a)"
    assert "JduO6" not in repr(key.verifying_key())


def test_rotation_list_keeps_order_and_accepts_commas():
    keys = parse_signing_keys(f"{defaults.SANDBOX_DEV_SIGNING_KEY}, {SPEC_SECRET}")
    assert [key.scheme for key in keys] == [Scheme.V1A, Scheme.V1]
