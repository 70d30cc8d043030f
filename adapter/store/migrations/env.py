"""Alembic environment: runs on the engine :mod:`adapter.store.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from adapter.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations in one transaction; batch mode on SQLite, which cannot ALTER much."""
    engine = config.attributes.get("engine")
    if not isinstance(engine, Engine):
        raise RuntimeError("run migrations with adapter.store.migrate (csins-adapter db upgrade)")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported")
run_migrations()
