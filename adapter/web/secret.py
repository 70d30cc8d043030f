"""The key that signs the admin pages' session cookie: one random secret per data dir.

Unless ``CSINS_WEB_SECRET`` gives one, the first process to need one writes 32 random bytes to
``{data_dir}/web-secret.key`` (mode 0600) and every later process on that data dir reads it:
sessions survive restarts and are shared by the web processes of one machine. The file is
created under a temporary name and linked into place, so two processes starting together agree
on one secret. Machines that do not share a data dir set ``CSINS_WEB_SECRET`` to one secret.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_FILENAME = "web-secret.key"  # noqa: S105 - a file name, not a secret
"""Name of the session-signing secret inside the data dir."""

SECRET_BYTES = 32
"""Random bytes in a generated secret (256 bits)."""


def load_or_create_secret(data_dir: Path) -> bytes:
    """The data dir's session secret, created (0600) on first use."""
    path = data_dir / SECRET_FILENAME
    existing = _read(path)
    if existing is not None:
        return existing
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / f".{SECRET_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(SECRET_BYTES).encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        # When another process won the race, its secret is the one to use.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    found = _read(path)
    if found is None:
        raise RuntimeError(f"{path}: the session secret could not be created")
    return found


def _read(path: Path) -> bytes | None:
    try:
        text = path.read_bytes().strip()
    except FileNotFoundError:
        return None
    if len(text) < SECRET_BYTES:
        raise RuntimeError(f"{path}: the session secret is shorter than {SECRET_BYTES} characters")
    return text
