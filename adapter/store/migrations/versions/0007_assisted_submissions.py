"""Routes and assisted submissions: a delivery remembers its channel; CSINS submissions recorded.

``deliveries.channel`` is the channel the delivery's route chose when it was first tried (null
for deliveries tried before routes existed: they were all sent as their addressee's one
channel said). ``assisted_submissions`` holds each submission a person made on the national
online service (CSINS) as recorded on the admin pages or through the API, and
``deliveries.submission_id`` the one that acknowledged a delivery. Existing rows need nothing.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assisted_submissions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("la_code", sa.String(length=8), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.String(length=60), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("confirmation_reference", sa.String(length=100), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_key_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_assisted_submissions_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assisted_submissions")),
    )
    op.create_index(
        op.f("ix_assisted_submissions_incident_id"), "assisted_submissions", ["incident_id"]
    )
    op.create_index(
        op.f("ix_assisted_submissions_la_code_recorded_at"),
        "assisted_submissions",
        ["la_code", "recorded_at"],
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("submission_id", sa.String(length=36), nullable=True))
        batch.create_index(batch.f("ix_deliveries_submission_id"), ["submission_id"])
        batch.create_foreign_key(
            batch.f("fk_deliveries_submission_id_assisted_submissions"),
            "assisted_submissions",
            ["submission_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(
            batch.f("fk_deliveries_submission_id_assisted_submissions"), type_="foreignkey"
        )
        batch.drop_index(batch.f("ix_deliveries_submission_id"))
        batch.drop_column("submission_id")
        batch.drop_column("channel")
    op.drop_index(
        op.f("ix_assisted_submissions_la_code_recorded_at"), table_name="assisted_submissions"
    )
    op.drop_index(op.f("ix_assisted_submissions_incident_id"), table_name="assisted_submissions")
    op.drop_table("assisted_submissions")
