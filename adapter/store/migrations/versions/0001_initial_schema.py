"""Initial schema: every table of ``adapter.store.models``, on SQLite and PostgreSQL alike.

Revision ID: 0001
Revises:
Create Date: 2026-11-27

``sa.DateTime(timezone=True)`` stands for the models' ``UTCDateTime`` (the same storage), so this
script stays frozen when the models' Python code changes. Creating tables and indexes needs no
batch mode on SQLite; later migrations that alter tables get it from ``env.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)
_LA = sa.String(length=8)
_SHA256 = sa.String(length=64)
_UUID = sa.String(length=36)


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """A foreign key named by the models' naming convention."""
    referred_table = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred_table}"), ondelete=ondelete
    )


def _created_by(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return (
        sa.Column("created_by_key_id", sa.Integer(), nullable=True),
        _fk(table, "created_by_key_id", "api_keys.id", "SET NULL"),
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f(f"ix_{table}_{'_'.join(columns)}"), table, list(columns))


def upgrade() -> None:
    op.create_table(
        "local_authorities",
        sa.Column("code", _LA, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_local_authorities")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", _SHA256, nullable=False),
        sa.Column("la_code", _LA, nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("revoked_at", _TIMESTAMP, nullable=True),
        sa.Column("last_used_at", _TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "role IN ('local_authority', 'agency', 'admin', 'compliance')",
            name=op.f("ck_api_keys_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    _index("api_keys", "la_code")

    op.create_table(
        "incidents",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("la_code", _LA, nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("content_sha256", _SHA256, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        *_created_by("incidents"),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        _fk("incidents", "la_code", "local_authorities.code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint(
            "la_code", "idempotency_key", name=op.f("uq_incidents_la_code_idempotency_key")
        ),
        sa.UniqueConstraint("la_code", "reference", name=op.f("uq_incidents_la_code_reference")),
    )
    _index("incidents", "la_code", "created_at")
    _index("incidents", "la_code", "status")

    op.create_table(
        "incident_versions",
        sa.Column("incident_id", _UUID, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_sha256", _SHA256, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        *_created_by("incident_versions"),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        _fk("incident_versions", "incident_id", "incidents.id", "CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "version", name=op.f("pk_incident_versions")),
    )
    op.create_table(
        "children",
        sa.Column("incident_id", _UUID, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("details", sa.LargeBinary(), nullable=False),
        sa.Column("identity_known", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("looked_after", sa.Boolean(), nullable=True),
        sa.Column("care_leaver", sa.Boolean(), nullable=True),
        _fk("children", "incident_id", "incidents.id", "CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "index", name=op.f("pk_children")),
    )
    _index("children", "outcome")

    op.create_table(
        "events",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("incident_id", _UUID, nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("document_sha256", _SHA256, nullable=True),
        *_created_by("events"),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        _fk("events", "incident_id", "incidents.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    _index("events", "incident_id", "on")

    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", _UUID, nullable=False),
        sa.Column("la_code", _LA, nullable=False),
        sa.Column("document", sa.String(length=60), nullable=False),
        sa.Column("addressee", sa.String(length=40), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("satisfied_at", _TIMESTAMP, nullable=True),
        sa.Column("acknowledged_at", _TIMESTAMP, nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        _fk("obligations", "incident_id", "incidents.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.UniqueConstraint(
            "incident_id",
            "document",
            "addressee",
            name=op.f("uq_obligations_incident_id_document_addressee"),
        ),
    )
    _index("obligations", "addressee", "due", "id")
    _index("obligations", "la_code", "due", "id")
    _index("obligations", "status", "due", "id")

    op.create_table(
        "deliveries",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("incident_id", _UUID, nullable=False),
        sa.Column("la_code", _LA, nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.String(length=60), nullable=False),
        sa.Column("addressee", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIMESTAMP, nullable=True),
        sa.Column("first_attempt_at", _TIMESTAMP, nullable=True),
        sa.Column("acknowledged_at", _TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("last_response", sa.String(length=1000), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_sha256", _SHA256, nullable=False),
        sa.Column("addressee_reference", sa.String(length=200), nullable=True),
        sa.Column("job_id", sa.String(length=100), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'retrying', 'acknowledged', 'failed')",
            name=op.f("ck_deliveries_status"),
        ),
        _fk("deliveries", "incident_id", "incidents.id", "CASCADE"),
        _fk("deliveries", "obligation_id", "obligations.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    _index("deliveries", "addressee", "status")
    _index("deliveries", "incident_id")
    _index("deliveries", "la_code", "status", "created_at")
    _index("deliveries", "obligation_id")
    _index("deliveries", "status", "next_attempt_at")

    op.create_table(
        "delivery_attempts",
        sa.Column("delivery_id", _UUID, nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("started_at", _TIMESTAMP, nullable=False),
        sa.Column("finished_at", _TIMESTAMP, nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=1000), nullable=True),
        _fk("delivery_attempts", "delivery_id", "deliveries.id", "CASCADE"),
        sa.PrimaryKeyConstraint("delivery_id", "number", name=op.f("pk_delivery_attempts")),
    )

    op.create_table(
        "imports",
        sa.Column("id", _UUID, nullable=False),
        sa.Column("la_code", _LA, nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("sha256", _SHA256, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("system", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("incidents_created", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("row_errors", sa.LargeBinary(), nullable=False),
        *_created_by("imports"),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    _index("imports", "la_code", "created_at")

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", _TIMESTAMP, nullable=False),
        sa.Column("la_code", _LA, nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    _index("audit_log", "at")
    _index("audit_log", "la_code", "at")


def downgrade() -> None:
    for table in (
        "audit_log",
        "imports",
        "delivery_attempts",
        "deliveries",
        "obligations",
        "events",
        "children",
        "incident_versions",
        "incidents",
        "api_keys",
        "local_authorities",
    ):
        op.drop_table(table)
