"""Imports no longer keep the upload's filename in clear.

Exports are often named after the child ("SI notification - <name> DOB <date>.csv"), so the
filename is personal data: new imports seal it with their row errors (``imports.row_errors``),
and the clear ``imports.filename`` column goes. A migration holds no encryption keys, so existing
filenames cannot be moved into the sealed detail: they are erased (set to NULL before the column
is dropped, so no live row keeps them), and those imports read back with no filename. Their
SHA-256 and size, which tie an import to its file, stay. Freed space may still hold the old bytes
until the database reuses it: run ``VACUUM`` to reclaim it at once. Existing sealed details are
untouched, so every import stays readable.

Downgrade brings the column back empty: filenames sealed since then stay sealed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.text("UPDATE imports SET filename = NULL WHERE filename IS NOT NULL"))
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("filename")


def downgrade() -> None:
    op.add_column("imports", sa.Column("filename", sa.String(length=255), nullable=True))
