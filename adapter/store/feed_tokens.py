"""Calendar feed tokens: one person's calendar reads one LA's deadline feed (issue 18).

Calendar clients cannot send ``Authorization: Bearer``, so ``GET /api/v1/deadlines.ics`` also
takes a token in its URL (``?token=``). A token reads ``csinsfeed_<prefix>_<secret>`` and is
kept like an API key (:mod:`adapter.store.tokens`): only the 12-hex-digit prefix and the
SHA-256 of the whole token are stored, compared in constant time, and a revoked token never
verifies. A token is bound to one LA (never ``*``) and reads the feed only: it is no API key,
and no API key of any other kind is accepted in a URL.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.clock import utcnow
from adapter.errors import CsinsError
from adapter.store.access_models import ALL_LAS, FeedTokenRow
from adapter.store.scope import scoped
from adapter.store.tokens import (
    hash_token,
    new_token,
    verified_row,
)

TOKEN_SCHEME = "csinsfeed"  # noqa: S105 (a fixed prefix, not a secret)
"""First part of every feed token: recognisable if leaked, and never mistaken for an API key."""

MAX_LABEL_CHARS = 200
"""Longest label (characters): whose calendar the token is for."""

_LA_CODE = re.compile(r"^[0-9]{3}$")


class FeedTokenError(CsinsError):
    """A feed token cannot be created as asked (bad LA code, missing or long label)."""


@dataclass(frozen=True)
class FeedReader:
    """Who a verified feed token speaks for: the LA whose deadlines the feed lists."""

    token_id: int
    la_code: str

    @property
    def la_scope(self) -> str:
        return self.la_code


@dataclass(frozen=True)
class NewFeedToken:
    """A token just created; ``token`` is shown once and never stored."""

    token_id: int
    prefix: str
    token: str
    la_code: str
    label: str

    def __repr__(self) -> str:
        return f"NewFeedToken(token_id={self.token_id}, prefix={self.prefix!r})"


def create_token(
    session: Session, *, la_code: str, label: str, created_by_key_id: int | None = None
) -> NewFeedToken:
    """Create and store a token for LA ``la_code``; ``NewFeedToken.token`` is the only copy."""
    if not _LA_CODE.match(la_code):
        raise FeedTokenError(f"la: expected a 3-digit LA code, got {la_code!r}")
    label = label.strip()
    if not label:
        raise FeedTokenError("label: say whose calendar the feed is for")
    if len(label) > MAX_LABEL_CHARS:
        raise FeedTokenError(f"label: at most {MAX_LABEL_CHARS} characters, got {len(label)}")
    prefix, token = new_token(TOKEN_SCHEME)
    row = FeedTokenRow(
        prefix=prefix,
        token_hash=hash_token(token),
        la_code=la_code,
        label=label,
        created_by_key_id=created_by_key_id,
    )
    session.add(row)
    session.flush()
    return NewFeedToken(row.id, prefix, token, la_code, label)


def verify_token(
    session: Session, presented: str, *, now: dt.datetime | None = None
) -> FeedReader | None:
    """The reader of a valid, unrevoked token; None for anything else (never says which)."""
    row = verified_row(
        presented, TOKEN_SCHEME, lambda prefix: _by_prefix(session, prefix), _token_hash, now
    )
    return None if row is None else FeedReader(token_id=row.id, la_code=row.la_code)


def _by_prefix(session: Session, prefix: str) -> FeedTokenRow | None:
    statement = select(FeedTokenRow).where(FeedTokenRow.prefix == prefix)
    return session.scalars(statement).one_or_none()


def _token_hash(row: FeedTokenRow) -> str:
    return row.token_hash


def list_tokens(session: Session, la_scope: str = ALL_LAS) -> list[FeedTokenRow]:
    """The tokens of the scope (prefixes, labels and dates; never the secrets), oldest first."""
    statement = scoped(select(FeedTokenRow), FeedTokenRow.la_code, la_scope)
    return list(session.scalars(statement.order_by(FeedTokenRow.id)).all())


def revoke_token(session: Session, prefix: str, la_scope: str = ALL_LAS) -> FeedTokenRow | None:
    """Revoke the scope's token with ``prefix``; None if the scope has none."""
    statement = scoped(select(FeedTokenRow), FeedTokenRow.la_code, la_scope)
    row = session.scalars(statement.where(FeedTokenRow.prefix == prefix)).one_or_none()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row
