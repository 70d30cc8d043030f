"""API keys remember when the admin pages were last signed out with them.

The session cookie is signed, not stored, so clearing it in the browser that signs out leaves any
copy of it valid until it expires. The pages refuse a session begun at or before this time
instead. Existing rows start with none (no key has been signed out since).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_keys", sa.Column("web_signed_out_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("web_signed_out_at")
