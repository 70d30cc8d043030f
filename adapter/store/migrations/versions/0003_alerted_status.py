"""Obligations remember the at-risk status last alerted, apart from the status stored.

A plan stores an obligation's status as it is when planned (already ``due_soon`` or ``overdue``
for an incident notified late), so the deadline check cannot alert on the change of status
alone: it alerts when the at-risk status differs from the one last alerted. Existing rows start
with none, so each obligation at risk now is alerted once after the upgrade.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("obligations", sa.Column("alerted_status", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("alerted_status")
