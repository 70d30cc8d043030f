"""Encryption at rest: AES-256-GCM, key ids in ciphertexts, row binding, rotation, key loading."""

from __future__ import annotations

import base64
import logging
import stat

import pytest

from adapter.store.crypto import (
    DEV_KEY_FILENAME,
    DecryptionError,
    EncryptionError,
    Keyring,
    aad,
    format_key,
    load_keyring,
    new_key,
)
from config.settings import Settings, SettingsError, load_settings, parse_encryption_keys

ROW_1 = aad("children", "details", "incident-1", 1, 0)
ROW_2 = aad("children", "details", "incident-2", 1, 0)


def test_round_trip_and_self_describing_format():
    keyring = Keyring([("k1", new_key())])
    sealed = keyring.encrypt(b"Zephyrine Quarrington", ROW_1)
    assert sealed.startswith(b"v1.k1.")
    assert b"Zephyrine" not in sealed
    assert keyring.decrypt(sealed, ROW_1) == b"Zephyrine Quarrington"
    assert keyring.encrypt(b"same", ROW_1) != keyring.encrypt(b"same", ROW_1)  # random nonces


def test_ciphertext_moved_to_another_row_or_column_fails():
    keyring = Keyring([("k1", new_key())])
    sealed = keyring.encrypt(b"child details", ROW_1)
    with pytest.raises(DecryptionError, match="authentication"):
        keyring.decrypt(sealed, ROW_2)
    with pytest.raises(DecryptionError):
        keyring.decrypt(sealed, aad("incident_versions", "payload", "incident-1", 1, 0))


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # flipped tag bit
        lambda b: b[:20],  # truncated
        lambda b: b"v2" + b[2:],  # unknown format
        lambda b: b"not a ciphertext",
    ],
)
def test_damaged_ciphertext_fails(damage):
    keyring = Keyring([("k1", new_key())])
    with pytest.raises(DecryptionError):
        keyring.decrypt(damage(keyring.encrypt(b"x" * 40, ROW_1)), ROW_1)


def test_rotation_old_ciphertexts_stay_readable():
    old = ("2025", new_key())
    before = Keyring([old]).encrypt(b"written under the old key", ROW_1)
    rotated = Keyring([("2026", new_key()), old])
    assert rotated.decrypt(before, ROW_1) == b"written under the old key"
    assert not rotated.is_current(before)
    assert rotated.is_current(rotated.encrypt(b"new", ROW_1))
    assert rotated.key_id_of(rotated.encrypt(b"new", ROW_1)) == "2026"


def test_key_removed_from_the_keyring_cannot_decrypt():
    sealed = Keyring([("gone", new_key())]).encrypt(b"x", ROW_1)
    with pytest.raises(DecryptionError, match="'gone'"):
        Keyring([("k1", new_key())]).decrypt(sealed, ROW_1)


def test_keyring_needs_unique_keys():
    with pytest.raises(EncryptionError):
        Keyring([])
    key = new_key()
    with pytest.raises(EncryptionError):
        Keyring([("a", key), ("a", key)])
    assert "Keyring(current='a'" in repr(Keyring([("a", key)]))
    assert base64.b64encode(key).decode() not in repr(Keyring([("a", key)]))


def test_keys_from_the_environment_first_is_current(tmp_path):
    new, old = new_key(), new_key()
    env = {
        "CSINS_ENCRYPTION_KEYS": f"{format_key('new', new)}, {format_key('old', old)}",
        "CSINS_DATA_DIR": str(tmp_path),
    }
    settings = load_settings(env)
    assert settings.encryption_keys == (("new", new), ("old", old))
    assert base64.b64encode(new).decode() not in repr(settings)
    keyring = load_keyring(settings)
    assert keyring.kids == ("new", "old")
    assert not (tmp_path / DEV_KEY_FILENAME).exists()


def test_keys_from_a_file(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(
        f"# rotated 2026-11\n{format_key('b', new_key())}\n{format_key('a', new_key())}\n",
        encoding="utf-8",
    )
    settings = load_settings({"CSINS_ENCRYPTION_KEYS_FILE": str(key_file)})
    assert load_keyring(settings).kids == ("b", "a")
    with pytest.raises(SettingsError, match="CSINS_ENCRYPTION_KEYS_FILE"):
        load_keyring(Settings(encryption_keys_file=tmp_path / "missing"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nocolon", "kid:base64key"),
        ("bad.kid:AAAA", "kid:base64key"),
        ("k:!!!", "not valid base64"),
        ("k:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (
            f"k:{base64.b64encode(bytes(32)).decode()},k:{base64.b64encode(bytes(32)).decode()}",
            "twice",
        ),
    ],
)
def test_bad_keys_are_refused_naming_the_setting(value, message):
    with pytest.raises(SettingsError, match=message) as caught:
        load_settings({"CSINS_ENCRYPTION_KEYS": value})
    assert "CSINS_ENCRYPTION_KEYS" in str(caught.value)


def test_url_safe_base64_keys_are_accepted():
    key = new_key()
    encoded = base64.urlsafe_b64encode(key).decode()
    assert parse_encryption_keys("X", f"k:{encoded}") == (("k", key),)


def test_without_keys_a_private_dev_key_is_generated_once(tmp_path, caplog):
    settings = Settings(data_dir=tmp_path / "var")
    with caplog.at_level(logging.WARNING, logger="adapter.store.crypto"):
        first = load_keyring(settings)
    path = tmp_path / "var" / DEV_KEY_FILENAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "development key" in caplog.text
    sealed = first.encrypt(b"kept across restarts", ROW_1)
    assert load_keyring(settings).decrypt(sealed, ROW_1) == b"kept across restarts"
    assert [p.name for p in path.parent.iterdir()] == [DEV_KEY_FILENAME]
