"""Receipts: one signed receipt per acknowledged delivery, the log head, and checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_SHA256 = sa.String(length=64)


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("la_code", sa.String(length=8), nullable=False),
        sa.Column("document", sa.String(length=60), nullable=False),
        sa.Column("addressee", sa.String(length=40), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("acknowledged_at", _TIMESTAMP, nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("chain_hash", _SHA256, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_receipts_delivery_id_deliveries")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_receipts_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("sequence", name=op.f("uq_receipts_sequence")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_receipts_delivery_id")),
    )
    op.create_index(op.f("ix_receipts_incident_id"), "receipts", ["incident_id"])
    op.create_index(
        op.f("ix_receipts_la_code_acknowledged_at"), "receipts", ["la_code", "acknowledged_at"]
    )
    head = op.create_table(
        "receipt_log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head_sha256", _SHA256, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_log_head")),
    )
    # The one head row exists from the start, so appending only ever locks and updates it.
    op.bulk_insert(head, [{"id": 1, "size": 0, "head_sha256": "0" * 64}])
    op.create_table(
        "receipt_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("head_sha256", _SHA256, nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_checkpoints")),
    )
    op.create_index(
        op.f("ix_receipt_checkpoints_created_at"), "receipt_checkpoints", ["created_at"]
    )


def downgrade() -> None:
    for table in ("receipt_checkpoints", "receipt_log_head", "receipts"):
        op.drop_table(table)
