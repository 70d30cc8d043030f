"""Published keys: RFC 7638 thumbprints as key ids, RFC 7517 JWKS reading from a file or URL."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapter.receipts import MalformedJwks, public_keys_from_jwks, read_jwks
from adapter.receipts.jwks import public_jwk, thumbprint
from adapter.receipts.jws import b64url_decode

# RFC 8037 Appendix A.1 (key), A.3 (thumbprint), A.4 (a JWS signed with it)
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def rfc8037_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(b64url_decode(RFC8037_D))


def test_the_key_id_is_the_rfc7638_thumbprint():
    public = rfc8037_key().public_key()
    assert public_jwk(public)["x"] == RFC8037_X
    assert thumbprint(public) == RFC8037_THUMBPRINT


def test_the_rfc8037_example_signature_verifies_with_our_base64url():
    header, payload, signature = RFC8037_JWS.split(".")
    rfc8037_key().public_key().verify(b64url_decode(signature), f"{header}.{payload}".encode())
    assert b64url_decode(payload) == b"Example of Ed25519 signing"


def test_keys_are_found_by_kid_and_others_skipped():
    jwks = {
        "keys": [
            {"kty": "RSA", "n": "...", "e": "AQAB", "kid": "rsa"},
            {"kty": "OKP", "crv": "X25519", "x": RFC8037_X, "kid": "ecdh"},
            {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "ours"},
            {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X},
        ]
    }
    assert set(public_keys_from_jwks(jwks)) == {"ours", RFC8037_THUMBPRINT}


@pytest.mark.parametrize(
    ("jwks", "reason"),
    [
        ([], 'an object with a "keys" list'),
        ({"keys": {}}, 'an object with a "keys" list'),
        ({"keys": ["k"]}, r"keys\[0\] is not an object"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "short"}]}, r"keys\[0\].x"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519"}]}, r"keys\[0\].x"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": 7}]}, "kid"),
        ({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": RFC8037_D}]}, "private"),
    ],
)
def test_malformed_jwks(jwks, reason):
    with pytest.raises(MalformedJwks, match=reason):
        public_keys_from_jwks(jwks)


def test_read_from_a_file(jwks_file, keyring):
    assert set(read_jwks(str(jwks_file))) == set(keyring.public_keys)


def test_read_from_a_url(jwks_server, keyring):
    assert set(read_jwks(f"{jwks_server}/jwks.json")) == set(keyring.public_keys)


@pytest.mark.parametrize(("path", "reason"), [("/huge.json", "larger than"), ("/nope", "HTTP 404")])
def test_a_url_that_does_not_serve_a_jwks(jwks_server, path, reason):
    with pytest.raises(MalformedJwks, match=reason):
        read_jwks(f"{jwks_server}{path}")


def test_an_unreachable_url():
    with pytest.raises(MalformedJwks, match="cannot fetch JWKS"):
        read_jwks("http://127.0.0.1:9/jwks.json", timeout=2)


def test_a_file_that_is_not_json(tmp_path):
    (tmp_path / "jwks.json").write_text("{nope")
    with pytest.raises(MalformedJwks, match="not JSON"):
        read_jwks(str(tmp_path / "jwks.json"))
    with pytest.raises(MalformedJwks, match="cannot read"):
        read_jwks(str(tmp_path / "absent.json"))


def test_our_jwks_is_what_we_publish(keyring):
    (jwk,) = keyring.jwks()["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    assert jwk["use"] == "sig" and jwk["kid"] == keyring.current_kid
    assert json.loads(json.dumps(keyring.jwks())) == keyring.jwks()
