"""API keys: bearer tokens bound to one local authority (or ``*`` for admins) and one role.

A key reads ``csins_<prefix>_<secret>``: the 12-hex-digit prefix finds the row, the secret is 256
bits from :func:`secrets.token_urlsafe`. Only the prefix and the SHA-256 of the whole key are
stored. A plain (unkeyed) hash suffices because the key itself is 256-bit random: nothing can be
guessed from the hash, and there is no pepper to lose or rotate. Verification compares hashes in
constant time; a revoked key never verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.errors import CsinsError
from adapter.store.models import ALL_LAS, ROLES, ApiKey

KEY_SCHEME = "csins"
"""First part of every key, so a leaked key is recognisable (e.g. by secret scanners)."""

SECRET_BYTES = 32
"""Random bytes in a key's secret part (256 bits)."""

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is rewritten at most this often per key, to spare a write per request."""

_LA_CODE = re.compile(r"^[0-9]{3}$")
_PREFIX = re.compile(r"^[0-9a-f]{12}$")

__all__ = [
    "ROLES",
    "ApiKeyError",
    "NewKey",
    "Principal",
    "create_key",
    "hash_key",
    "list_keys",
    "revoke_key",
    "verify_key",
]


class ApiKeyError(CsinsError):
    """A key cannot be created as asked (unknown role, bad LA code, ``*`` for a non-admin)."""


@dataclass(frozen=True)
class Principal:
    """Who a verified key speaks for: the scope every repository query takes is ``la_code``."""

    key_id: int | None
    """None for the operator at the command line (``csins-adapter import``), who has no key."""
    la_code: str
    role: str

    @property
    def la_scope(self) -> str:
        """The LA scope of this caller's queries (``*`` for an all-LA admin)."""
        return self.la_code


@dataclass(frozen=True)
class NewKey:
    """A key just created; ``key`` is shown once and never stored."""

    key_id: int
    prefix: str
    key: str
    la_code: str
    role: str

    def __repr__(self) -> str:
        return f"NewKey(key_id={self.key_id}, prefix={self.prefix!r}, la_code={self.la_code!r})"


def hash_key(key: str) -> str:
    """SHA-256 (hex) of a whole presented key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split(key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    scheme, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if scheme != KEY_SCHEME or not _PREFIX.match(prefix) or len(secret) < 32:
        return None
    return prefix, secret


def create_key(session: Session, *, la_code: str, role: str, name: str | None = None) -> NewKey:
    """Create and store a key; the returned ``NewKey.key`` is the only copy of the secret."""
    if role not in ROLES:
        raise ApiKeyError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    if la_code == ALL_LAS:
        if role != "admin":
            raise ApiKeyError("--la '*' (every local authority) is only for the admin role")
    elif not _LA_CODE.match(la_code):
        raise ApiKeyError(f"la: expected a 3-digit LA code or '*', got {la_code!r}")
    prefix = secrets.token_hex(6)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    row = ApiKey(prefix=prefix, key_hash=hash_key(key), la_code=la_code, role=role, name=name)
    session.add(row)
    session.flush()
    return NewKey(key_id=row.id, prefix=prefix, key=key, la_code=la_code, role=role)


def verify_key(
    session: Session, presented: str, *, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of a valid, unrevoked key; None for anything else (never says which)."""
    parts = _split(presented.strip())
    if parts is None:
        return None
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == parts[0])).one_or_none()
    expected = row.key_hash if row is not None else hash_key(secrets.token_hex(16))
    if not hmac.compare_digest(hash_key(presented.strip()), expected):
        return None
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(key_id=row.id, la_code=row.la_code, role=row.role)


def revoke_key(session: Session, prefix: str) -> bool:
    """Revoke the key with ``prefix`` (the part after ``csins_``); False if there is none."""
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).one_or_none()
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True


def list_keys(session: Session) -> list[ApiKey]:
    """Every key (prefixes, scopes and dates; the secrets are not stored), oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)).all())
