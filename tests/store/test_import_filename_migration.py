"""Migration 0005: the upload's filename leaves the clear ``imports.filename`` column, and imports
stored before it stay readable (their filename erased, their sealed detail untouched)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session

from adapter.store import migrate
from adapter.store.crypto import Keyring
from adapter.store.database import create_database_engine, sqlite_path
from adapter.store.import_runs import import_detail
from adapter.store.models import ImportRunRow
from adapter.store.sealing import import_aad, seal_json

NAMED = "SI notification - Zebedee Quartermain DOB 19-07-2014.csv"
"""How such exports are often named: after the child."""

ROW_ERRORS = [{"row": 2, "field": "NHS_ID", "value": "943 476 5918", "message": "bad check digit"}]


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(empty_database_url)
    migrate.downgrade(engine, "base")  # the module's database, whatever a test left in it
    yield engine
    migrate.downgrade(engine, "base")
    engine.dispose()


def _store_an_import_as_0004_did(engine: Engine, keyring: Keyring) -> str:
    """An import row written as the code of revision 0004 wrote it: filename in clear."""
    import_id = str(uuid.uuid4())
    sealed = seal_json(
        keyring,
        {"row_errors": ROW_ERRORS, "incidents": [], "rows_rejected": 1},
        import_aad(import_id, "812"),
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO imports (id, la_code, filename, sha256, size, system, rows_read, "
                "incidents_created, error_count, row_errors, created_at) VALUES (:id, '812', "
                ":filename, :sha256, 10, 'mosaic', 1, 0, 1, :sealed, :at)"
            ),
            {
                "id": import_id,
                "filename": NAMED,
                "sha256": "a" * 64,
                "sealed": sealed,
                "at": dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
            },
        )
    return import_id


def _columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("imports")}


def test_the_filename_column_goes_and_older_imports_stay_readable(engine, keyring):
    migrate.upgrade(engine, "0004")
    import_id = _store_an_import_as_0004_did(engine, keyring)

    migrate.upgrade(engine)
    assert "filename" not in _columns(engine)
    with Session(engine) as session:
        record = session.scalars(select(ImportRunRow)).one()
        assert (record.id, record.sha256, record.size) == (import_id, "a" * 64, 10)
        detail = import_detail(keyring, record)
    assert detail.filename is None
    assert detail.row_errors == ROW_ERRORS
    assert detail.rows_rejected == 1

    migrate.downgrade(engine, "0004")
    assert "filename" in _columns(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT filename FROM imports")).scalars().all() == [None]
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_the_sqlite_file_keeps_no_trace_of_an_erased_filename(engine, keyring):
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        pytest.skip("the file check is for the embedded SQLite database")
    migrate.upgrade(engine, "0004")
    _store_an_import_as_0004_did(engine, keyring)
    migrate.upgrade(engine)
    engine.dispose()  # and with it the write-ahead log, checkpointed into the file
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"a" * 64 in stored  # the check would see the clear columns
    assert b"Quartermain" not in stored
