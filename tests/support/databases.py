"""Real databases for tests: SQLite always, PostgreSQL when DATABASE_URL names one.

Each test module gets a fresh database per backend (a SQLite file under tmp_path; a throwaway
PostgreSQL database created from DATABASE_URL's server and dropped afterwards, never the named
database itself), migrated with the shipped Alembic scripts. Tables are emptied after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from adapter.store import migrate
from adapter.store.crypto import Keyring, new_key
from adapter.store.database import Database, normalise_url
from adapter.store.models import Base
from config.settings import Settings, load_settings
from tests.support.throwaway import throwaway_postgresql


def postgresql_url() -> str | None:
    """DATABASE_URL (through the settings, as everywhere) when it names PostgreSQL."""
    url = load_settings().database_url
    if url and make_url(normalise_url(url)).get_backend_name() == "postgresql":
        return normalise_url(url)
    return None


BACKENDS = ["sqlite", *(["postgresql"] if postgresql_url() else [])]


@pytest.fixture(scope="module", params=BACKENDS)
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a new, empty database on one backend, removed after the module."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'csins.db'}"
        return
    with throwaway_postgresql(postgresql_url() or "", "csins_test_") as url:
        yield url


@pytest.fixture(scope="module")
def test_key() -> bytes:
    """The random key of :func:`keyring` (tests that rotate keys need its bytes)."""
    return new_key()


@pytest.fixture(scope="module")
def keyring(test_key: bytes) -> Keyring:
    """A keyring with one random key, id ``test-1``, shared by a module's tests."""
    return Keyring([("test-1", test_key)])


@pytest.fixture(scope="module")
def migrated(
    empty_database_url: str, keyring: Keyring, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A database migrated to head, configured like the service configures it."""
    database = Database()
    database.configure(
        Settings(data_dir=tmp_path_factory.mktemp("data")), url=empty_database_url, keyring=keyring
    )
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def db(migrated: Database) -> Iterator[Database]:
    """The module's migrated database, emptied after the test."""
    yield migrated
    with migrated.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
