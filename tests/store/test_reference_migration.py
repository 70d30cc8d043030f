"""Migration 0010 reports stored references that now collide, and changes nothing (issue 19)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from adapter.store import migrate
from adapter.store.database import create_database_engine

AT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(empty_database_url)
    migrate.downgrade(engine, "base")
    yield engine
    migrate.downgrade(engine, "base")
    engine.dispose()


def _store(engine: Engine, la_code: str, reference: str) -> str:
    """An incident row as revisions up to 0005 wrote it (the record itself is not needed)."""
    incident_id = str(uuid.uuid4())
    with engine.begin() as connection:
        known = connection.execute(
            text("SELECT count(*) FROM local_authorities WHERE code = :la"), {"la": la_code}
        ).scalar()
        if not known:
            connection.execute(
                text("INSERT INTO local_authorities (code, created_at) VALUES (:la, :at)"),
                {"la": la_code, "at": AT},
            )
        connection.execute(
            text(
                "INSERT INTO incidents (id, la_code, reference, current_version, status, "
                "content_sha256, created_at, updated_at) VALUES (:id, :la, :ref, 1, "
                "'notifiable', :sha, :at, :at)"
            ),
            {"id": incident_id, "la": la_code, "ref": reference, "sha": "0" * 64, "at": AT},
        )
    return incident_id


def test_stored_look_alikes_in_one_la_are_reported_and_kept(engine, caplog):
    migrate.upgrade(engine, "0005")
    plain = _store(engine, "812", "REF-1")
    hyphen = _store(engine, "812", "REF\u20101")
    hidden = _store(engine, "812", "REF-\u200b1")
    elsewhere = _store(engine, "813", "REF\u20131")  # another LA: its own reference
    alone = _store(engine, "812", "OTHER\u20142")  # not in normal form, but collides with none

    with caplog.at_level(logging.WARNING, logger="adapter.store.migrations"):
        migrate.upgrade(engine, "0010")

    warnings = [r.getMessage() for r in caplog.records if r.name == "adapter.store.migrations"]
    (collision,) = [w for w in warnings if "share the reference" in w]
    assert collision.startswith("LA 812: 3 stored incidents")
    assert all(i in collision for i in (plain, hyphen, hidden))
    assert elsewhere not in collision and alone not in collision
    assert any("4 stored incident reference(s) are not in the normal form" in w for w in warnings)
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT reference FROM incidents")).scalars())
    assert stored == {"REF-1", "REF\u20101", "REF-\u200b1", "REF\u20131", "OTHER\u20142"}


def test_a_database_without_look_alikes_upgrades_quietly(engine, caplog):
    migrate.upgrade(engine, "0005")
    _store(engine, "812", "REF-1")
    _store(engine, "812", "REF-2")
    with caplog.at_level(logging.WARNING, logger="adapter.store.migrations"):
        migrate.upgrade(engine, "0010")
    assert [r for r in caplog.records if r.name == "adapter.store.migrations"] == []
