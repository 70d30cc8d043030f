"""Imports run in the background: their status, progress and the sealed upload until they run.

``POST /imports`` now answers 202 and a worker converts and writes the export (DESIGN.md §7).
Each import gets its status (``queued``, ``running``, ``done``, ``failed``), the counts that show
its progress, where a run resumes (``incidents_done``), which run owns it and when it last wrote,
and the upload itself, sealed, until it has run. Imports stored before ran to the end inside
their request: they are ``done``, with nothing to resume.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = "status IN ('queued', 'running', 'done', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="done")
        )
        batch.add_column(sa.Column("created_by_role", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("upload", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("rows_total", sa.Integer(), nullable=True))
        for name in ("incidents_unchanged", "incidents_conflicting", "incidents_done", "attempts"):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_check_constraint(op.f("ck_imports_status"), _STATUSES)
        batch.create_index(op.f("ix_imports_status"), ["status"])


def downgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.drop_index(op.f("ix_imports_status"))
        batch.drop_constraint(op.f("ck_imports_status"), type_="check")
        for name in (
            "finished_at",
            "heartbeat_at",
            "attempts",
            "incidents_done",
            "incidents_conflicting",
            "incidents_unchanged",
            "rows_total",
            "upload",
            "created_by_role",
            "status",
        ):
            batch.drop_column(name)
