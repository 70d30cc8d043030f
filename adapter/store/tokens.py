"""Bearer secrets kept as a public prefix and a SHA-256: API keys and calendar feed tokens.

A secret reads ``<scheme>_<prefix>_<secret>``. The scheme names its kind (``csins`` for an API
key, ``csinsfeed`` for a feed token), so a leaked one is recognisable (e.g. by secret scanners)
and never taken for the other kind; the 12-hex-digit prefix finds the row; the secret part is
256 bits from :func:`secrets.token_urlsafe`. Only the prefix and the SHA-256 of the whole secret
are stored. A plain (unkeyed) hash suffices because the secret is 256-bit random: nothing can be
guessed from the hash, and there is no pepper to lose or rotate. Verification compares hashes in
constant time (against a random hash when no row has the prefix); a revoked one never verifies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Protocol, TypeVar

from adapter.clock import utcnow

SECRET_BYTES = 32
"""Random bytes in a secret part (256 bits)."""

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is rewritten at most this often per row, to spare a write per request."""

_PREFIX = re.compile(r"^[0-9a-f]{12}$")
_SHORTEST_SECRET = 32


class HeldSecret(Protocol):
    """A stored key or token row: whether it was revoked, and when it was last used."""

    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


Held = TypeVar("Held", bound=HeldSecret)


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a whole presented key or token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(scheme: str) -> tuple[str, str]:
    """A new secret of ``scheme``: ``(prefix, token)``; the token is the only copy."""
    prefix = secrets.token_hex(6)
    return prefix, f"{scheme}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def token_prefix(presented: str, scheme: str) -> str | None:
    """The prefix of a well-formed secret of ``scheme``, else None."""
    kind, _, rest = presented.partition("_")
    prefix, _, secret = rest.partition("_")
    if kind != scheme or not _PREFIX.match(prefix) or len(secret) < _SHORTEST_SECRET:
        return None
    return prefix


def verified_row(
    presented: str,
    scheme: str,
    find: Callable[[str], Held | None],
    stored_hash: Callable[[Held], str],
    now: dt.datetime | None = None,
) -> Held | None:
    """The row of a valid, unrevoked secret of ``scheme`` (``find`` looks it up by prefix,
    ``stored_hash`` reads its hash); None for anything else, never saying which. A use is noted
    in ``last_used_at`` at most every :data:`LAST_USED_RESOLUTION`."""
    presented = presented.strip()
    prefix = token_prefix(presented, scheme)
    if prefix is None:
        return None
    row = find(prefix)
    expected = stored_hash(row) if row is not None else hash_token(secrets.token_hex(16))
    if not hmac.compare_digest(hash_token(presented), expected):
        return None
    if row is None or row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return row
