"""``csins-adapter db``: migrate the configured database, re-encrypt under the current key.

Every command that opens the database does so through :func:`opened_database`: a database that
cannot be reached or read ends the command with one line naming the problem (never the
password) and exit status 2, as ``receipts audit`` does, instead of a driver's traceback.
``db reencrypt`` exits 2 too when some values cannot be decrypted: it re-encrypts the others and
names each one it left (table, row, key id) instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import SQLAlchemyError

from adapter.store import migrate, rekey
from adapter.store.database import Database, sqlite_path
from config.settings import SettingsError, load_settings


class DatabaseUnavailable(click.ClickException):
    """The database cannot be reached or read (exit 2), as opposed to a refused request (1)."""

    exit_code = 2


class UnreadableValues(click.ClickException):
    """Some stored values cannot be decrypted with the configured keys (exit 2): a summary line,
    then one line per value (table.column, row, key id, why), then how many more there are."""

    exit_code = 2

    def __init__(self, done: rekey.Reencryption, current_kid: str) -> None:
        count = done.unreadable_count
        values = "1 stored value cannot" if count == 1 else f"{count} stored values cannot"
        left = "was" if count == 1 else "were"
        lines = [
            f"{values} be decrypted with the configured keys and {left} left unchanged; every "
            f"other value is now under key '{current_kid}'. Configure the keys named below "
            "(after the current one) and run 'csins-adapter db reencrypt' again."
        ]
        for value in done.unreadable:
            kid = "no key id" if value.kid is None else f"key '{value.kid}'"
            lines.append(f"  {value.column} row {value.row} ({kid}): {value.problem}")
        rest = count - len(done.unreadable)
        if rest:
            lines.append(f"  ... and {rest} more")
        super().__init__("\n".join(lines))


def open_database() -> Database:
    """The configured database; a settings error becomes a clean CLI error."""
    try:
        return Database.from_settings(load_settings())
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    except (SQLAlchemyError, OSError) as exc:  # an unusable URL, a data dir that cannot be made
        raise DatabaseUnavailable(f"cannot open the database: {_first_line(exc)}") from exc


@contextmanager
def opened_database() -> Iterator[Database]:
    """:func:`open_database`, disposed of afterwards; a database error inside is one line."""
    database = open_database()
    try:
        yield database
    except SQLAlchemyError as exc:
        detail = _first_line(exc)
        password = database.engine.url.password
        if password:
            detail = detail.replace(str(password), "***")
        raise DatabaseUnavailable(
            f"cannot use the database ({_where(database)}): {detail}"
        ) from exc
    finally:
        database.dispose()


def _first_line(exc: Exception) -> str:
    """The driver's own message (SQLAlchemy's adds the statement and a link), first line only."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
    with opened_database() as database:
        where = _where(database)
        migrate.upgrade(database.engine, revision)
        current = migrate.current_revision(database.engine)
    click.echo(f"{where}: at revision {current}")


@db.command()
def current() -> None:
    """Show the database's revision and the newest one this version ships."""
    with opened_database() as database:
        click.echo(
            f"{_where(database)}: at revision {migrate.current_revision(database.engine)}"
            f" (newest: {migrate.head_revision()})"
        )


@db.command()
def reencrypt() -> None:
    """Re-encrypt every stored value under the current key (after adding a new first key).

    Values no configured key decrypts are left as they are and listed, one line each (up to
    :data:`~adapter.store.rekey.UNREADABLE_KEPT`), after a one-line summary; every other value
    is re-encrypted and committed all the same, and the command exits 2.
    """
    with opened_database() as database:
        require_migrated(database)
        with database.session_scope() as session:
            done = rekey.reencrypt(session, database.keyring)
        current_kid = database.keyring.current_kid
    for column, count in done.counts.items():
        click.echo(f"{column}: {count} re-encrypted")
    if done.unreadable_count:
        raise UnreadableValues(done, current_kid)
    click.echo(f"All values are now under key '{current_kid}'.")


def require_migrated(database: Database) -> None:
    """Refuse to work on a database that is not migrated to this version's newest revision."""
    current, head = migrate.current_revision(database.engine), migrate.head_revision()
    if current != head:
        raise click.ClickException(
            f"the database is at revision {current}, not {head}: run 'csins-adapter db upgrade'"
        )
