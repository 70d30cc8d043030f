"""Personal data is only ever stored encrypted, bound to its row, and survives key rotation."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from adapter.crypto import DecryptionError, Keyring, new_key
from adapter.store.database import Database, sqlite_path
from adapter.store.events import add_event, event_data, event_document, list_events
from adapter.store.imports import import_detail, record_import
from adapter.store.incidents import child_details, current_record, get_incident
from adapter.store.models import Child, Delivery, ImportRecord, IncidentVersion, LifecycleEvent
from adapter.store.new_incidents import create_incident
from adapter.store.outbox import delivery_payload, enqueue_delivery
from adapter.store.rekey import reencrypt
from config.settings import Settings
from tests.store.factories import (
    CHILD_FORENAMES,
    CHILD_NHS_NUMBER,
    CHILD_SURNAME,
    make_event,
    make_record,
)

SECRETS = [CHILD_FORENAMES.encode(), CHILD_SURNAME.encode(), CHILD_NHS_NUMBER.encode()]
RAW_COLUMNS = [
    "SELECT payload FROM incident_versions",
    "SELECT details FROM children",
    "SELECT data FROM events",
    "SELECT payload FROM deliveries",
    "SELECT row_errors FROM imports",
]


def store_everything(db, keyring=None):
    """An incident, an event with a document, a delivery and an import, all naming the child."""
    keyring = keyring or db.keyring
    with db.session_scope() as session:
        incident = create_incident(session, keyring, la_scope="812", record=make_record()).incident
        add_event(
            session,
            keyring,
            la_scope="812",
            incident_id=incident.id,
            event=make_event(document=b"Report about " + SECRETS[0]),
        )
        enqueue_delivery(
            session,
            keyring,
            incident=incident,
            document="incident_notification",
            addressee="panel",
            payload=b'{"forenames": "' + SECRETS[0] + b'"}',
        )
        record_import(
            session,
            keyring,
            la_scope="812",
            la_code="812",
            # Exports are often named after the child: the filename is sealed too.
            filename=f"SI notification - {CHILD_FORENAMES} {CHILD_SURNAME}.csv",
            sha256="0" * 64,
            size=10,
            system="mosaic",
            rows_read=2,
            incidents_created=1,
            row_errors=[
                {
                    "row": 3,
                    "field": "NHS_ID",
                    "message": f"'{CHILD_NHS_NUMBER}0' is not a valid NHS number",
                }
            ],
        )
        return incident.id


def raw_values(db):
    with db.engine.connect() as connection:
        return [
            bytes(value)
            for query in RAW_COLUMNS
            for value in connection.execute(text(query)).scalars()
        ]


def test_raw_rows_hold_no_personal_data(db):
    incident_id = store_everything(db)
    values = raw_values(db)
    assert len(values) == 5
    for value in values:
        assert value.startswith(b"v1.test-1.")
        for secret in SECRETS:
            assert secret not in value
    # ... and yet the repositories read it all back.
    with db.session_scope() as session:
        incident = get_incident(session, "812", incident_id)
        assert current_record(session, db.keyring, incident)["children"][0]["surname"] == (
            CHILD_SURNAME
        )
        assert child_details(db.keyring, incident.children[0])["nhs_number"] == CHILD_NHS_NUMBER
        event = list_events(session, "812", incident_id)[0]
        assert event_document(db.keyring, event) == b"Report about " + SECRETS[0]
        assert event_data(db.keyring, event)["type"] == "rapid_review_completed"
        delivery = session.scalars(select(Delivery)).one()
        assert SECRETS[0] in delivery_payload(db.keyring, delivery)
        detail = import_detail(db.keyring, session.scalars(select(ImportRecord)).one())
        assert detail.row_errors[0]["field"] == "NHS_ID"
        assert detail.filename == f"SI notification - {CHILD_FORENAMES} {CHILD_SURNAME}.csv"


def test_sqlite_file_holds_no_personal_data(db):
    path = sqlite_path(db.engine.url.render_as_string(hide_password=False))
    if path is None:
        pytest.skip("the file check is for the embedded SQLite database")
    store_everything(db)
    # The main file and its write-ahead log together hold every committed byte.
    stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"NEL-2026-014" in stored  # the check would see plaintext if there were any
    for secret in SECRETS:
        assert secret not in stored


def test_ciphertext_swapped_between_rows_fails(db):
    store_everything(db)
    with db.session_scope() as session:
        second = create_incident(
            session, db.keyring, la_scope="812", record=make_record(reference="OTHER")
        ).incident.id
    with db.engine.begin() as connection:
        rows = {
            r.incident_id: r.details
            for r in connection.execute(text("SELECT incident_id, details FROM children"))
        }
        first = next(i for i in rows if i != second)
        connection.execute(
            update(Child).where(Child.incident_id == second).values(details=rows[first])
        )
    with db.session_scope() as session:
        child = session.scalars(select(Child).where(Child.incident_id == second)).one()
        with pytest.raises(DecryptionError):
            child_details(db.keyring, child)


def test_rotation_keeps_old_rows_readable_and_reencrypt_moves_them(db, test_key, tmp_path):
    old_keyring = db.keyring
    incident_id = store_everything(db)
    newest = new_key()
    rotated = Keyring([("test-2", newest), ("test-1", test_key)])
    database = Database()
    database.configure(
        Settings(data_dir=tmp_path),
        url=db.engine.url.render_as_string(hide_password=False),
        keyring=rotated,
    )
    try:
        with database.session_scope() as session:
            incident = get_incident(session, "812", incident_id)
            assert current_record(session, rotated, incident)["incident"]["reference"] == (
                "NEL-2026-014"
            )
            counts = reencrypt(session, rotated, batch_size=2).counts
        assert counts == {
            "incident_versions.payload": 1,
            "children.details": 1,
            "events.data": 1,
            "deliveries.payload": 1,
            "imports.row_errors": 1,
            "imports.upload": 0,
        }
        assert all(value.startswith(b"v1.test-2.") for value in raw_values(database))
        only_new = Keyring([("test-2", newest)])
        with database.session_scope() as session:
            assert reencrypt(session, only_new).counts == dict.fromkeys(counts, 0)
            incident = get_incident(session, "812", incident_id)
            assert child_details(only_new, incident.children[0])["forenames"] == CHILD_FORENAMES
            event = session.scalars(select(LifecycleEvent)).one()
            assert event_document(only_new, event).startswith(b"Report about")
            version = session.scalars(select(IncidentVersion)).one()
            with pytest.raises(DecryptionError):
                old_keyring.decrypt(version.payload, "incident_versions:payload:x:1")
    finally:
        database.dispose()
