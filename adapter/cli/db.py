"""``csins-adapter db``: migrate the configured database, re-encrypt under the current key."""

from __future__ import annotations

import click

from adapter.store import migrate
from adapter.store.database import Database, sqlite_path
from config.settings import SettingsError, load_settings


def open_database() -> Database:
    """The configured database; a settings error becomes a clean CLI error."""
    try:
        return Database.from_settings(load_settings())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _where(database: Database) -> str:
    """Where the database is, without credentials: a SQLite path or PostgreSQL host/name."""
    url = database.engine.url
    path = sqlite_path(url.render_as_string(hide_password=True))
    return f"SQLite {path}" if path else f"PostgreSQL {url.host or ''}/{url.database or ''}"


@click.group()
def db() -> None:
    """The database: schema migrations and encryption at rest."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def upgrade(revision: str) -> None:
    """Create or migrate the configured database (DATABASE_URL, else SQLite in the data dir)."""
    database = open_database()
    try:
        where = _where(database)
        migrate.upgrade(database.engine, revision)
        current = migrate.current_revision(database.engine)
    finally:
        database.dispose()
    click.echo(f"{where}: at revision {current}")


@db.command()
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    database = open_database()
    try:
        click.echo(
            f"{_where(database)}: at revision {migrate.current_revision(database.engine)}"
            f" (newest: {migrate.head_revision()})"
        )
    finally:
        database.dispose()


@db.command()
def reencrypt() -> None:
    """Re-encrypt every stored value under the current key (after adding a new first key)."""
    from adapter.store.rekey import reencrypt as run

    database = open_database()
    try:
        require_migrated(database)
        with database.session_scope() as session:
            counts = run(session, database.keyring)
        current_kid = database.keyring.current_kid
    finally:
        database.dispose()
    for column, count in counts.items():
        click.echo(f"{column}: {count} re-encrypted")
    click.echo(f"All values are now under key '{current_kid}'.")


def require_migrated(database: Database) -> None:
    """Refuse to work on a database that is not migrated to this version's newest revision."""
    current, head = migrate.current_revision(database.engine), migrate.head_revision()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current}, not {head}: run 'csins-adapter db upgrade'"
        )
