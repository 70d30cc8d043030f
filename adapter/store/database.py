"""The database resource: one engine and sessionmaker per process, built from settings.

Nothing is bound at import time: ``Database()`` is inert until :meth:`Database.configure` (the
web app's ``init_app``, the CLI and the worker each call it once). SQLite is the embedded default
(``{data_dir}/csins.db``, WAL, foreign keys on); ``DATABASE_URL`` selects PostgreSQL.

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: writers queue on the database lock
(up to :data:`SQLITE_BUSY_TIMEOUT_SECONDS`) at the start of their transaction instead of failing
half-way when a read snapshot turns stale, which is what makes concurrent submissions safe.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from adapter.store.crypto import Keyring, load_keyring
from adapter.store.publishing import NoPublisher, Publisher, install
from config.settings import Settings, SettingsError

SQLITE_FILENAME = "csins.db"
"""Name of the embedded database file inside the data dir."""

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long (seconds) a SQLite transaction waits for another writer before giving up."""

SQLITE_MIN_VERSION = (3, 35, 0)
"""The oldest SQLite with ``RETURNING``, which submissions and deliveries use."""

PING_AFTER_IDLE_SECONDS = 5.0
"""A pooled PostgreSQL connection unused for this long is pinged before it is used again."""


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL the settings select: ``DATABASE_URL``, else the embedded SQLite file."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return f"sqlite:///{(settings.data_dir / SQLITE_FILENAME).resolve()}"


def normalise_url(url: str) -> str:
    """Select the psycopg 3 driver for PostgreSQL URLs written the usual way (``postgres://``)."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    backend = url.partition(":")[0].partition("+")[0]
    if backend not in ("postgresql", "sqlite"):
        raise SettingsError(
            f"DATABASE_URL: expected a postgresql:// or sqlite:// URL, got {backend}:"
        )
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by this user alone, as the key files beside it are
    (its journal and WAL files take its mode): the umask would leave it readable by all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):  # an existing one keeps its owner's mode
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def create_database_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url`` with the per-backend settings this service relies on."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        engine = create_engine(url, **options)
        _ping_when_idle(engine)
        return engine
    if sqlite3.sqlite_version_info < SQLITE_MIN_VERSION:
        raise SettingsError(
            f"SQLite {'.'.join(map(str, SQLITE_MIN_VERSION))} or newer is needed; this Python "
            f"has {sqlite3.sqlite_version} (set DATABASE_URL to a PostgreSQL database instead)"
        )
    path = sqlite_path(url)
    if path is not None:
        _create_private(path)
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False}
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection that sat idle before handing it out; replace it if it is dead.

    SQLAlchemy's pessimistic disconnect handling (``pool_pre_ping``) pings on every checkout,
    which cost a worker two round trips per delivery. A connection is lost while it is idle (a
    server restart, a dropped socket), so only one idle for :data:`PING_AFTER_IDLE_SECONDS` is
    pinged: the custom-ping form of the same recipe. One in steady use that dies anyway fails
    its transaction, as it would mid-transaction with ``pool_pre_ping``, and SQLAlchemy then
    replaces every connection of the pool.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
            return  # new, or in use a moment ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # end the transaction the ping began
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"a pooled connection was dead: {error}") from error


class Database:
    """Engine, sessionmaker and encryption keyring; framework-agnostic (the web app wraps it)."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._sessionmaker: sessionmaker[Session] | None = None
        self._autocommit_sessionmaker: sessionmaker[Session] | None = None
        self._keyring: Keyring | None = None
        self._settings: Settings | None = None
        self.publisher: Publisher = NoPublisher()
        """Where committed work goes (:mod:`adapter.store.publishing`): the composition root
        (the web app, the worker, the CLI) sets the RQ publisher; by default the sweeper
        enqueues it."""

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Database:
        """A configured database; ``kwargs`` as for :meth:`configure`."""
        database = cls()
        database.configure(settings, **kwargs)
        return database

    def configure(
        self,
        settings: Settings,
        *,
        url: str | None = None,
        keyring: Keyring | None = None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        """Build the engine from ``settings`` (or ``url``); the keyring is ``keyring`` or loaded
        from ``settings`` when first used (so commands that never decrypt never need a key)."""
        self.dispose()
        self._settings = settings
        self._keyring = keyring
        self._engine = create_database_engine(
            url or database_url(settings), **(engine_options or {})
        )
        self._sessionmaker = sessionmaker(self._engine, expire_on_commit=False)
        install(self._sessionmaker, lambda: self.publisher)
        self._autocommit_sessionmaker = self._sessionmaker
        if self._engine.dialect.name == "postgresql":
            self._autocommit_sessionmaker = sessionmaker(
                self._engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )

    @property
    def engine(self) -> Engine:
        """The engine; raises until :meth:`configure` has run."""
        if self._engine is None:
            raise RuntimeError("Database.configure() has not been called")
        return self._engine

    @property
    def keyring(self) -> Keyring:
        """The keyring that encrypts and decrypts personal data at rest (loaded on first use)."""
        if self._keyring is None:
            if self._settings is None:
                raise RuntimeError("Database.configure() has not been called")
            self._keyring = load_keyring(self._settings)
        return self._keyring

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def session(self) -> Session:
        """A new session; prefer :meth:`session_scope`, which commits or rolls back for you."""
        if self._sessionmaker is None:
            raise RuntimeError("Database.configure() has not been called")
        return self._sessionmaker()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self.session() as session, session.begin():
            yield session

    @contextmanager
    def autocommit_scope(self) -> Iterator[Session]:
        """A session whose statements each commit on their own, for a short read that needs no
        transaction around it (an API key check): on PostgreSQL it spares the ``BEGIN`` and
        ``COMMIT`` round trips. On SQLite it is :meth:`session_scope`."""
        if self._autocommit_sessionmaker is None:
            raise RuntimeError("Database.configure() has not been called")
        with self._autocommit_sessionmaker() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection (after fork, at shutdown, in tests)."""
        if self._engine is not None:
            self._engine.dispose()
        self._engine = None
        self._sessionmaker = self._autocommit_sessionmaker = None
