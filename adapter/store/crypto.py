"""Encryption at rest: AES-256-GCM with a keyring, each ciphertext bound to its row and column.

Children's personal data (names, NHS numbers, dates of birth) and the documents sent to the
national bodies are stored only as ciphertext. A ciphertext names the key that made it::

    b"v1." + key id + b"." + 12-byte nonce + AES-GCM ciphertext and tag

and is authenticated together with associated data naming where it lives
(``"incidents:payload:<id>:<version>"``, see :func:`aad`), so a ciphertext copied into another
row or column fails to decrypt instead of showing one child's record under another incident.

Keys come from settings (``CSINS_ENCRYPTION_KEYS`` or ``CSINS_ENCRYPTION_KEYS_FILE``): the first
key encrypts, the others still decrypt, which is how keys are rotated. With no key configured a
development key is generated into ``{data_dir}/dev-encryption.key`` (mode 0600) with a warning.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapter.errors import CsinsError
from config.settings import ENCRYPTION_KEY_BYTES, Settings, SettingsError, parse_encryption_keys

log = logging.getLogger(__name__)

FORMAT_VERSION = b"v1"
"""Prefix of every ciphertext this module writes; a new layout would get a new prefix."""

NONCE_BYTES = 12
"""AES-GCM nonce length (bytes): random per message, as NIST SP 800-38D recommends."""

DEV_KEY_FILENAME = "dev-encryption.key"
"""Name (inside the data dir) of the key generated when none is configured."""

DEV_KEY_ID = "dev"
"""Key id of the generated development key."""

_AAD_PREFIX = b"csins-adapter:"


class EncryptionError(CsinsError):
    """Encryption at rest failed: no usable key, or a ciphertext that cannot be decrypted."""


class DecryptionError(EncryptionError):
    """A ciphertext is malformed, names an unknown key, or fails authentication (wrong row?)."""


def aad(table: str, column: str, *row_id: object) -> str:
    """The associated data binding a ciphertext to ``table``, ``column`` and its row's key parts."""
    return ":".join([table, column, *(str(part) for part in row_id)])


def new_key() -> bytes:
    """A fresh random 256-bit key."""
    return secrets.token_bytes(ENCRYPTION_KEY_BYTES)


def format_key(kid: str, key: bytes) -> str:
    """One ``kid:base64`` entry, as ``CSINS_ENCRYPTION_KEYS`` and key files hold it."""
    return f"{kid}:{base64.b64encode(key).decode('ascii')}"


class Keyring:
    """The encryption keys: the current one encrypts; any of them decrypts what it encrypted."""

    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        ordered = list(keys)
        if not ordered:
            raise EncryptionError("a keyring needs at least one key")
        self._ciphers: Mapping[str, AESGCM] = {kid: AESGCM(key) for kid, key in ordered}
        if len(self._ciphers) != len(ordered):
            raise EncryptionError("a keyring's key ids must be unique")
        self.current_kid = ordered[0][0]

    def __repr__(self) -> str:
        return f"Keyring(current={self.current_kid!r}, kids={list(self._ciphers)!r})"

    @property
    def kids(self) -> tuple[str, ...]:
        """The key ids, current first."""
        return tuple(self._ciphers)

    def encrypt(self, plaintext: bytes, associated_data: str) -> bytes:
        """Encrypt with the current key, bound to ``associated_data`` (see :func:`aad`)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current_kid].encrypt(
            nonce, plaintext, _AAD_PREFIX + associated_data.encode("utf-8")
        )
        return b".".join((FORMAT_VERSION, self.current_kid.encode("ascii"), nonce + sealed))

    def decrypt(self, ciphertext: bytes, associated_data: str) -> bytes:
        """Decrypt a ciphertext made by :meth:`encrypt` with the same ``associated_data``."""
        kid = self.key_id_of(ciphertext)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"ciphertext is under key '{kid}', which is not in the keyring")
        body = bytes(ciphertext).split(b".", 2)[2]
        try:
            return cipher.decrypt(
                body[:NONCE_BYTES],
                body[NONCE_BYTES:],
                _AAD_PREFIX + associated_data.encode("utf-8"),
            )
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext failed authentication for {associated_data.split(':')[0]}"
                " (tampered, or stored under another row or column)"
            ) from None

    @staticmethod
    def key_id_of(ciphertext: bytes) -> str:
        """The id of the key that made ``ciphertext``."""
        parts = bytes(ciphertext).split(b".", 2)
        if len(parts) != 3 or parts[0] != FORMAT_VERSION or len(parts[2]) < NONCE_BYTES + 16:
            raise DecryptionError("not a ciphertext of this service (expected the v1 format)")
        return parts[1].decode("ascii", errors="replace")

    def is_current(self, ciphertext: bytes) -> bool:
        """Whether ``ciphertext`` is under the current key (else re-encryption would refresh it)."""
        return self.key_id_of(ciphertext) == self.current_kid


def load_keyring(settings: Settings) -> Keyring:
    """The keyring the settings name; a generated development key when they name none."""
    if settings.encryption_keys:
        return Keyring(settings.encryption_keys)
    if settings.encryption_keys_file is not None:
        path = settings.encryption_keys_file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(
                f"CSINS_ENCRYPTION_KEYS_FILE: cannot read {path} ({exc.strerror})"
            ) from None
        keys = parse_encryption_keys("CSINS_ENCRYPTION_KEYS_FILE", text)
        if not keys:
            raise SettingsError(f"CSINS_ENCRYPTION_KEYS_FILE: {path} holds no key")
        return Keyring(keys)
    return Keyring(_dev_keys(settings.data_dir))


def _dev_keys(data_dir: Path) -> tuple[tuple[str, bytes], ...]:
    """Read, or create with mode 0600, the development key file in ``data_dir``."""
    path = data_dir / DEV_KEY_FILENAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Write a private temporary file, then link it into place: atomic, and a concurrent
        # process either wins (we read its key) or loses (it reads ours).
        temporary = data_dir / f".{DEV_KEY_FILENAME}.{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("# Development key generated by csins-adapter: not for production.\n")
                out.write(format_key(DEV_KEY_ID, new_key()) + "\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
    log.warning(
        "No encryption key configured (CSINS_ENCRYPTION_KEYS): using the development key in %s. "
        "Configure real keys before storing real records.",
        path,
    )
    keys = parse_encryption_keys(str(path), path.read_text(encoding="utf-8"))
    if not keys:
        raise SettingsError(f"{path}: holds no key")
    return keys
