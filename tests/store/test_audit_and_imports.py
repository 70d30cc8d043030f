"""The append-only audit log, import records, and UTC datetimes on every backend."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from adapter.store import OutOfScope
from adapter.store.access_models import ApiKeyRow, AuditEntryRow
from adapter.store.audit_log import AuditLogIsAppendOnly, audit, list_audit
from adapter.store.import_runs import get_import, import_detail, import_row_errors, record_import


def test_audit_lines_append_and_list_newest_first_within_scope(db):
    with db.session_scope() as session:
        for n in range(3):
            audit(
                session,
                action="incident.created",
                la_code="812",
                key_id=1,
                actor_role="local_authority",
                object_type="incident",
                object_id=f"id-{n}",
                detail={"version": 1},
            )
        audit(session, action="incident.created", la_code="813", object_id="theirs")
        audit(session, action="key.created", detail={"prefix": "abc"})
    with db.session_scope() as session:
        first = list_audit(session, "812", limit=2)
        assert [e.object_id for e in first.items] == ["id-2", "id-1"]
        rest = list_audit(session, "812", cursor=first.next, limit=2)
        assert [e.object_id for e in rest.items] == ["id-0"] and rest.next is None
        assert first.items[0].detail == {"version": 1}
        assert first.items[0].at.tzinfo == dt.UTC
        everything = list_audit(session, "*")
        assert everything.items[0].action == "key.created"
        assert len(everything.items) == 5
        assert [e.object_id for e in list_audit(session, "*", object_id="theirs").items] == [
            "theirs"
        ]


def test_audit_lines_cannot_be_changed_or_removed(db):
    with db.session_scope() as session:
        entry = audit(session, action="delivery.retried", la_code="812")
    with pytest.raises(AuditLogIsAppendOnly), db.session_scope() as session:
        session.get(AuditEntryRow, entry.id).action = "something else"
    with pytest.raises(AuditLogIsAppendOnly), db.session_scope() as session:
        session.delete(session.get(AuditEntryRow, entry.id))
    with db.session_scope() as session:
        assert session.get(AuditEntryRow, entry.id).action == "delivery.retried"


def test_import_records_are_scoped_and_keep_their_errors(db):
    errors = [{"row": 2, "field": "DATE_OF_BIRTH", "message": "not a date"}]
    with db.session_scope() as session:
        record = record_import(
            session,
            db.keyring,
            la_scope="812",
            la_code="812",
            filename="export.csv",
            sha256="a" * 64,
            size=1234,
            system="mosaic",
            rows_read=3,
            incidents_created=2,
            row_errors=errors,
        )
        with pytest.raises(OutOfScope):
            record_import(
                session,
                db.keyring,
                la_scope="812",
                la_code="813",
                filename=None,
                sha256="b" * 64,
                size=1,
                system="mosaic",
                rows_read=0,
                incidents_created=0,
            )
    with db.session_scope() as session:
        assert get_import(session, "813", record.id) is None
        stored = get_import(session, "812", record.id)
        assert (stored.error_count, stored.rows_read, stored.incidents_created) == (1, 3, 2)
        assert import_row_errors(db.keyring, stored) == errors
        detail = import_detail(db.keyring, stored)
        assert (detail.incident_count, detail.incident_outcomes) == (0, {})
        assert detail.filename == "export.csv"  # sealed with the row errors
        assert not detail.incidents_truncated


def test_datetimes_are_aware_utc_on_every_backend(db):
    london = dt.datetime(2026, 7, 1, 12, 30, 15, 123456, tzinfo=ZoneInfo("Europe/London"))
    with db.session_scope() as session:
        session.add(
            ApiKeyRow(
                prefix="0" * 12, key_hash="0" * 64, la_code="812", role="admin", created_at=london
            )
        )
    with db.session_scope() as session:
        stored = session.scalars(select(ApiKeyRow)).one().created_at
    assert stored.tzinfo == dt.UTC
    assert stored == london and stored.hour == 11 and stored.microsecond == 123456
    with pytest.raises(Exception, match="naive datetime"), db.session_scope() as session:
        session.add(
            ApiKeyRow(
                prefix="1" * 12,
                key_hash="0" * 64,
                la_code="812",
                role="admin",
                created_at=dt.datetime(2026, 7, 1, 12, 0),
            )
        )
