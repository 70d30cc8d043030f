"""How engines are built (adapter/store/database.py): a pooled PostgreSQL connection that died
while idle is replaced before it is handed out, one in steady use is not pinged; an SQLite too
old for ``RETURNING`` is refused up front."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from adapter.store import database as database_module
from adapter.store.database import Database
from config.settings import SettingsError


@pytest.fixture
def postgresql(db: Database) -> Iterator[Database]:
    if db.dialect != "postgresql":
        pytest.skip("the idle ping is for PostgreSQL; SQLite has no connection to lose")
    db.engine.dispose()
    yield db
    db.engine.dispose()


def backend_pid(db: Database) -> int:
    """The server process of the connection one unit of work was given."""
    with db.session_scope() as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def kill(db: Database, pid: int) -> None:
    """Terminate server process ``pid`` from a connection outside ``db``'s pool."""
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_a_connection_killed_while_idle_is_replaced(
    postgresql: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    first = backend_pid(postgresql)
    kill(postgresql, first)
    assert backend_pid(postgresql) != first  # pinged, found dead, replaced: no error


def test_a_connection_in_steady_use_is_not_pinged(
    postgresql: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = backend_pid(postgresql)
    kill(postgresql, first)
    # Handed out unpinged, the dead connection fails its unit of work, once; SQLAlchemy then
    # replaces the pool's connections and the next unit of work gets a live one.
    with pytest.raises(OperationalError):
        backend_pid(postgresql)
    assert backend_pid(postgresql) != first


def test_an_sqlite_without_returning_is_refused_with_the_way_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(database_module.sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(database_module.sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(SettingsError, match=r"SQLite 3\.35\.0 or newer .* has 3\.31\.1"):
        database_module.create_database_engine(f"sqlite:///{tmp_path / 'csins.db'}")


def test_a_new_sqlite_database_is_readable_by_its_owner_alone(tmp_path):
    """The database holds sealed personal data and its metadata: like the key files beside it,
    no other user of the machine may read it, whatever the umask."""
    import stat

    from adapter.store.database import create_database_engine

    path = tmp_path / "var" / "csins.db"
    engine = create_database_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
