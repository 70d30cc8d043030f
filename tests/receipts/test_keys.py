"""The signing keyring: loading, generating for local runs, rotating, publishing as a JWKS."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from adapter.receipts import (
    KeyringError,
    create_signing_key,
    load_keyring,
    public_keys_from_jwks,
    verify_chain,
    verify_receipt,
)
from adapter.receipts.jwks import thumbprint
from tests.receipts.conftest import make_log


def write_private(path: Path, key: Ed25519PrivateKey | None = None) -> Ed25519PrivateKey:
    key = key or Ed25519PrivateKey.generate()
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return key


def test_local_runs_generate_a_private_key_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        keyring = load_keyring(tmp_path)
    key_file = tmp_path / "receipt-keys" / "receipt-key-0001.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert "No receipt signing key configured" in caplog.text
    assert load_keyring(tmp_path).current_kid == keyring.current_kid


def test_rotation_keeps_old_keys_published_and_old_receipts_valid(tmp_path):
    keys_dir = tmp_path / "keys"
    first = create_signing_key(keys_dir)
    old_keyring = load_keyring(tmp_path, keys_dir=keys_dir)
    old_log = make_log(3, old_keyring)

    second = create_signing_key(keys_dir)
    keyring = load_keyring(tmp_path, keys_dir=keys_dir)
    assert keyring.current_kid == second != first
    assert list(keyring.public_keys) == [second, first]
    assert {k["kid"] for k in keyring.jwks()["keys"]} == {first, second}
    # the retired key can no longer sign: only its public half is left
    assert sorted(p.name for p in keys_dir.iterdir()) == [
        "receipt-key-0001.pub.pem",
        "receipt-key-0002.pem",
    ]

    published = public_keys_from_jwks(keyring.jwks())
    new_log = make_log(2, keyring, start=4, previous=old_log[-1].chain_hash)
    assert verify_receipt(old_log[0], published).kid == first
    assert verify_receipt(new_log[0], published).kid == second
    assert verify_chain(old_log + new_log, [], published) is None


def test_rotation_may_keep_old_private_keys(tmp_path):
    create_signing_key(tmp_path)
    create_signing_key(tmp_path, retire_old=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "receipt-key-0001.pem",
        "receipt-key-0002.pem",
    ]
    assert len(load_keyring(tmp_path, keys_dir=tmp_path).public_keys) == 2


def test_a_named_key_file_is_current_and_the_folder_adds_older_keys(tmp_path):
    keys_dir = tmp_path / "published"
    keys_dir.mkdir()
    old = Ed25519PrivateKey.generate().public_key()
    (keys_dir / "2025.pem").write_bytes(
        old.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    current = write_private(tmp_path / "signing.pem")
    keyring = load_keyring(tmp_path, key_file=tmp_path / "signing.pem", keys_dir=keys_dir)
    assert keyring.current_kid == thumbprint(current.public_key())
    assert list(keyring.public_keys) == [keyring.current_kid, thumbprint(old)]
    assert len(load_keyring(tmp_path, key_file=tmp_path / "signing.pem").public_keys) == 1


def test_a_folder_with_one_private_key_of_any_name(tmp_path):
    key = write_private(tmp_path / "ours.pem")
    assert load_keyring(tmp_path, keys_dir=tmp_path).current_kid == thumbprint(key.public_key())


def test_a_folder_with_several_unnumbered_private_keys_needs_the_current_named(tmp_path):
    write_private(tmp_path / "a.pem")
    write_private(tmp_path / "b.pem")
    with pytest.raises(KeyringError, match="CSINS_SIGNING_KEY_FILE"):
        load_keyring(tmp_path, keys_dir=tmp_path)


def test_not_a_key(tmp_path):
    (tmp_path / "key.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(KeyringError, match=r"key\.pem"):
        load_keyring(tmp_path, key_file=tmp_path / "key.pem")


def test_not_an_ed25519_key(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    with pytest.raises(KeyringError, match="not an Ed25519 key"):
        load_keyring(tmp_path, key_file=tmp_path / "key.pem")


def test_a_missing_key_file(tmp_path):
    with pytest.raises(KeyringError, match="cannot read"):
        load_keyring(tmp_path, key_file=tmp_path / "absent.pem")


def test_a_missing_keys_folder(tmp_path):
    write_private(tmp_path / "signing.pem")
    with pytest.raises(KeyringError, match="not a folder"):
        load_keyring(tmp_path, key_file=tmp_path / "signing.pem", keys_dir=tmp_path / "absent")


def test_the_private_key_never_appears_in_the_jwks(tmp_path):
    create_signing_key(tmp_path / "k")
    keyring = load_keyring(tmp_path, keys_dir=tmp_path / "k")
    (jwk,) = keyring.jwks()["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert "SigningKeyring(current=" in repr(keyring)
