"""What differs between the two databases the store runs on, written once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def dialect_insert(session: Session) -> Any:
    """``insert`` of the session's dialect: both have ``ON CONFLICT`` (race-free upserts)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
