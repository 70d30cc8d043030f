"""Who may act and what was done: API keys, calendar feed tokens and the audit log.

None of these rows holds personal data: a key or token is stored as its public prefix and the
SHA-256 of the whole secret (:mod:`adapter.store.tokens`), the audit log as ids, counts and
codes. Declared on the same ``Base`` as :mod:`adapter.store.models`, which imports this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from adapter.clock import utcnow
from adapter.store.types import BIGINT_ID, LA_CODE, SHA256_HEX, Base, one_of

ROLES = ("local_authority", "agency", "admin", "compliance")
"""API key roles (DESIGN.md §7)."""

ALL_LAS = "*"
"""The LA scope of an admin key created for every local authority (``keys create --la '*'``)."""


class ApiKeyRow(Base):
    """A bearer API key: only its public prefix and the SHA-256 of the whole key are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(SHA256_HEX)
    la_code: Mapped[str] = mapped_column(LA_CODE, index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    web_signed_out_at: Mapped[dt.datetime | None]
    """When the admin pages were last signed out with this key: sessions begun at or before
    then are refused, so a copied session cookie dies with the sign-out."""


class FeedTokenRow(Base):
    """A calendar feed token (issue 18): lets one person's calendar read one LA's deadlines.

    Calendar clients cannot send a bearer header, so the token travels in the feed's URL; like
    an API key, only its public prefix and the SHA-256 of the whole token are stored. It reads
    the deadline feed and nothing else.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(SHA256_HEX)
    la_code: Mapped[str] = mapped_column(LA_CODE, index=True)
    label: Mapped[str] = mapped_column(String(200))
    """Whose calendar it is for (a member of staff or a team), so an admin knows which to revoke."""
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class AuditEntryRow(Base):
    """An append-only audit log line: who did what to which object. Never personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "la_code", "at"),)

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    la_code: Mapped[str | None] = mapped_column(LA_CODE)
    key_id: Mapped[int | None] = mapped_column(Integer)
    """The acting API key (no foreign key: the log outlives the keys)."""
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
