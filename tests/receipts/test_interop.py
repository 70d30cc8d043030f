"""A third party verifies our receipts with a generic JOSE library (jwcrypto): VERIFYING.md."""

from __future__ import annotations

import hashlib
import json

import rfc8785
from jwcrypto import jwk, jws  # type: ignore[import-untyped]

from tests.receipts.conftest import make_log


def test_jwcrypto_verifies_a_receipt_against_our_jwks(keyring):
    log = make_log(2, keyring)
    files = [json.loads(signed.to_json()) for signed in log]
    published = json.dumps(keyring.jwks())

    # what VERIFYING.md tells a third party to do, step by step
    key_set = jwk.JWKSet.from_json(published)
    previous = "0" * 64
    for document in files:
        token = jws.JWS()
        token.deserialize(document["jws"])
        kid = token.jose_header["kid"]
        key = key_set.get_key(kid)
        assert key is not None and key.thumbprint() == kid
        token.verify(key, alg="EdDSA")
        assert token.payload == rfc8785.dumps(document["receipt"])
        assert document["receipt"]["previous_receipt_sha256"] == previous
        previous = hashlib.sha256(document["jws"].encode("ascii")).hexdigest()


def test_jwcrypto_refuses_a_receipt_signed_by_another_key(keyring):
    from tests.receipts.conftest import make_keyring

    forged = make_log(1, make_keyring())[0]
    token = jws.JWS()
    token.deserialize(forged.jws)
    key_set = jwk.JWKSet.from_json(json.dumps(keyring.jwks()))
    assert key_set.get_key(token.jose_header["kid"]) is None
