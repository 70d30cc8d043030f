"""API keys: bearer tokens bound to one local authority (or ``*`` for admins) and one role.

A key reads ``csins_<prefix>_<secret>`` and is kept as its prefix and the SHA-256 of the whole
key (:mod:`adapter.store.tokens`, shared with the calendar feed tokens): verification compares
hashes in constant time, and a revoked key never verifies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.errors import CsinsError
from adapter.store.access_models import ALL_LAS, ROLES, ApiKeyRow
from adapter.store.tokens import hash_token, new_token, verified_row

KEY_SCHEME = "csins"
"""First part of every key, so a leaked key is recognisable (e.g. by secret scanners)."""

_LA_CODE = re.compile(r"^[0-9]{3}$")

__all__ = [
    "ROLES",
    "ApiKeyError",
    "NewKey",
    "Principal",
    "create_key",
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


def create_key(session: Session, *, la_code: str, role: str, name: str | None = None) -> NewKey:
    """Create and store a key; the returned ``NewKey.key`` is the only copy of the secret."""
    if role not in ROLES:
        raise ApiKeyError(f"role: expected one of {', '.join(ROLES)}, got {role!r}")
    if la_code == ALL_LAS:
        if role != "admin":
            raise ApiKeyError("--la '*' (every local authority) is only for the admin role")
    elif not _LA_CODE.match(la_code):
        raise ApiKeyError(f"la: expected a 3-digit LA code or '*', got {la_code!r}")
    prefix, key = new_token(KEY_SCHEME)
    row = ApiKeyRow(prefix=prefix, key_hash=hash_token(key), la_code=la_code, role=role, name=name)
    session.add(row)
    session.flush()
    return NewKey(key_id=row.id, prefix=prefix, key=key, la_code=la_code, role=role)


def verify_key(
    session: Session, presented: str, *, now: dt.datetime | None = None
) -> Principal | None:
    """The principal of a valid, unrevoked key; None for anything else (never says which)."""
    row = verified_row(
        presented, KEY_SCHEME, lambda prefix: _by_prefix(session, prefix), _key_hash, now
    )
    return None if row is None else Principal(key_id=row.id, la_code=row.la_code, role=row.role)


def _by_prefix(session: Session, prefix: str) -> ApiKeyRow | None:
    return session.scalars(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix)).one_or_none()


def _key_hash(row: ApiKeyRow) -> str:
    return row.key_hash


def revoke_key(session: Session, prefix: str) -> bool:
    """Revoke the key with ``prefix`` (the part after ``csins_``); False if there is none."""
    row = _by_prefix(session, prefix)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True


def list_keys(session: Session) -> list[ApiKeyRow]:
    """Every key (prefixes, scopes and dates; the secrets are not stored), oldest first."""
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)).all())
