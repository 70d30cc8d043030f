"""The receipt signing keyring: the current Ed25519 private key plus every older public key.

Keys are PEM files (private: PKCS#8, public: SubjectPublicKeyInfo). Where they come from:

- ``key_file`` (setting ``CSINS_SIGNING_KEY_FILE``) names the current private key; the public
  keys of every ``*.pem`` in ``keys_dir`` (``CSINS_SIGNING_KEYS_DIR``), if given, stay published.
- ``keys_dir`` alone: the current key is the highest-numbered ``receipt-key-NNNN.pem`` there
  (or the only private key); every other ``*.pem`` is an older key, still published.
- neither (local runs): ``{data_dir}/receipt-keys/``, where a key is generated (mode 0600) when
  there is none, with a warning.

Rotation (:func:`create_signing_key`) writes the next ``receipt-key-NNNN.pem`` and retires the
older private keys to ``receipt-key-NNNN.pub.pem`` (public only): a retired key can no longer
sign, but receipts it signed stay verifiable because its public key stays in the JWKS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from adapter.receipts.errors import KeyringError
from adapter.receipts.jwks import jwks_document, thumbprint
from adapter.receipts.jws import sign_compact

log = logging.getLogger(__name__)

DEV_KEYS_DIRNAME = "receipt-keys"
"""Folder (inside the data dir) where local runs keep generated signing keys."""

_NUMBERED = re.compile(r"^receipt-key-(\d{4,})(\.pub)?\.pem$")


class SigningKeyring:
    """Signs with the current key; publishes the current and every older public key."""

    def __init__(self, current: Ed25519PrivateKey, older: Iterable[Ed25519PublicKey] = ()) -> None:
        self._signing_key = current
        self.current_kid = thumbprint(current.public_key())
        keys = {self.current_kid: current.public_key()}
        for key in older:
            keys.setdefault(thumbprint(key), key)
        self.public_keys: Mapping[str, Ed25519PublicKey] = keys
        """Every published key by key id, current first."""

    def __repr__(self) -> str:
        return f"SigningKeyring(current={self.current_kid!r}, kids={list(self.public_keys)!r})"

    def sign(self, payload: bytes, typ: str) -> str:
        """A JWS compact serialisation of ``payload`` signed with the current key."""
        return sign_compact(payload, self._signing_key, self.current_kid, typ)

    def jwks(self) -> dict[str, Any]:
        """The JWKS for ``/.well-known/jwks.json``: every public key, old ones included."""
        return jwks_document(self.public_keys)


def load_keyring(
    data_dir: Path, *, key_file: Path | None = None, keys_dir: Path | None = None
) -> SigningKeyring:
    """The keyring the settings name (see the module docstring); a generated one if none."""
    if key_file is not None:
        current = _read_private(key_file)
        older = _public_keys_in(keys_dir) if keys_dir is not None else []
        return SigningKeyring(current, older)
    if keys_dir is not None:
        return _keyring_from_dir(keys_dir)
    dev_dir = data_dir / DEV_KEYS_DIRNAME
    if not _private_key_files(dev_dir):
        create_signing_key(dev_dir)
    log.warning(
        "No receipt signing key configured (CSINS_SIGNING_KEY_FILE): signing with the generated "
        "key in %s. Configure a real key before issuing receipts that must be trusted.",
        dev_dir,
    )
    return _keyring_from_dir(dev_dir)


def create_signing_key(keys_dir: Path, *, retire_old: bool = True) -> str:
    """Write the next ``receipt-key-NNNN.pem`` (mode 0600) into ``keys_dir``; return its kid.

    Older private keys are retired to public-only files unless ``retire_old`` is false. Safe to
    race: if another process creates the same number first, its key is the new one.
    """
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    older = _private_key_files(keys_dir)
    number = 1 + max((_number(path) for path in _numbered_files(keys_dir)), default=0)
    path = keys_dir / f"receipt-key-{number:04d}.pem"
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        _write_new(path, pem, mode=0o600)
    except FileExistsError:
        return thumbprint(_read_private(path).public_key())
    if retire_old:
        for old in older:
            _retire(old)
    return thumbprint(key.public_key())


def _retire(private_path: Path) -> None:
    """Replace a private key file by a public-only one beside it."""
    public = _read_private(private_path).public_key()
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    retired = private_path.with_name(private_path.name.removesuffix(".pem") + ".pub.pem")
    with contextlib.suppress(FileExistsError):
        _write_new(retired, pem, mode=0o644)
    private_path.unlink(missing_ok=True)


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    """Create ``path`` atomically with ``data``; FileExistsError if it is already there."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _keyring_from_dir(keys_dir: Path) -> SigningKeyring:
    private = _private_key_files(keys_dir)
    numbered = [path for path in private if _NUMBERED.match(path.name)]
    if numbered:
        current_path = max(numbered, key=_number)
    elif len(private) == 1:
        current_path = private[0]
    else:
        raise KeyringError(
            f"{keys_dir}: {'no' if not private else 'several'} private keys and none numbered "
            "receipt-key-NNNN.pem; name the current one with CSINS_SIGNING_KEY_FILE"
        )
    return SigningKeyring(_read_private(current_path), _public_keys_in(keys_dir))


def _pem_files(keys_dir: Path) -> list[Path]:
    if not keys_dir.is_dir():
        return []
    return sorted(path for path in keys_dir.glob("*.pem") if path.is_file())


def _private_key_files(keys_dir: Path) -> list[Path]:
    return [path for path in _pem_files(keys_dir) if b"PRIVATE KEY" in _read_bytes(path)]


def _numbered_files(keys_dir: Path) -> list[Path]:
    return [path for path in _pem_files(keys_dir) if _NUMBERED.match(path.name)]


def _number(path: Path) -> int:
    match = _NUMBERED.match(path.name)
    return int(match.group(1)) if match else 0


def _public_keys_in(keys_dir: Path) -> list[Ed25519PublicKey]:
    """The public key of every PEM file (private or public) in ``keys_dir``, in name order."""
    if not keys_dir.is_dir():
        raise KeyringError(f"CSINS_SIGNING_KEYS_DIR: {keys_dir} is not a folder")
    keys: list[Ed25519PublicKey] = []
    for path in _pem_files(keys_dir):
        data = _read_bytes(path)
        keys.append(
            _read_private(path).public_key() if b"PRIVATE KEY" in data else _read_public(path)
        )
    return keys


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyringError(f"cannot read signing key {path}: {exc.strerror}") from None


def _read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(_read_bytes(path), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyringError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyringError(f"{path}: not an Ed25519 key")
    return key


def _read_public(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(_read_bytes(path))
    except (ValueError, TypeError) as exc:
        raise KeyringError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyringError(f"{path}: not an Ed25519 key")
    return key
