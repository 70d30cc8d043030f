"""Personal data submitted through the API is stored only as ciphertext, and survives key
rotation (DESIGN.md §2; adapter/store/crypto.py)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from adapter.app import create_app
from adapter.store.crypto import format_key, new_key
from adapter.store.models import Base
from tests.store.factories import CHILD_FORENAMES, CHILD_NHS_NUMBER, CHILD_SURNAME
from tests.support.api import API, document_event, new_record, post_event, submit
from tests.support.service import Service, service_settings

SECRETS = [value.encode() for value in (CHILD_FORENAMES, CHILD_SURNAME, CHILD_NHS_NUMBER)]


def raw_column(service: Service, sql: str) -> list[bytes]:
    with service.database.engine.connect() as connection:
        return [bytes(value) for (value,) in connection.execute(text(sql))]


def test_submitted_personal_data_is_not_stored_in_the_clear(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, document_event("rapid_review_completed"))
    service.work()
    for sql in (
        "SELECT payload FROM incident_versions",
        "SELECT details FROM children",
        "SELECT payload FROM deliveries",
        "SELECT data FROM events",
    ):
        values = raw_column(service, sql)
        assert values, sql
        for value in values:
            assert value.startswith(b"v1.test-1."), sql
            assert not any(secret in value for secret in SECRETS), sql


def test_no_table_holds_the_childs_name_or_nhs_number(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    post_event(service, la_key, incident_id, document_event("rapid_review_completed"))
    service.work()
    with service.database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                for value in row:
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                    data = raw if isinstance(raw, bytes) else raw.encode()
                    assert not any(secret in data for secret in SECRETS), table.name


def test_rotated_keys_keep_old_rows_readable(
    service: Service, la_key: str, test_key: bytes, tmp_path: Path
) -> None:
    record = new_record()
    old_id = submit(service, la_key, record)["id"]
    rotated = service_settings(
        tmp_path / "rotated",
        service.database.engine.url.render_as_string(hide_password=False),
        service.sandbox.base_url,
        service.settings.redis_url or "",
        env={
            "CSINS_ENCRYPTION_KEYS": f"{format_key('new', new_key())},"
            f"{format_key('test-1', test_key)}"
        },
    )
    app = create_app(settings=rotated)
    try:
        client = app.test_client()
        headers = service.headers(la_key)
        old = client.get(f"{API}/incidents/{old_id}", headers=headers)
        assert old.status_code == 200
        assert old.get_json()["record"]["children"][0]["surname"] == CHILD_SURNAME
        amended = {**record, "incident": {**record["incident"], "summary": "after rotation"}}
        response = client.post(
            f"{API}/incidents/{old_id}/amendments", json=amended, headers=headers
        )
        assert response.status_code == 201
        assert response.get_json()["record"]["incident"]["summary"] == "after rotation"
    finally:
        app.extensions["csins"].database.dispose()
    versions = raw_column(service, "SELECT payload FROM incident_versions ORDER BY version")
    assert [value.split(b".")[1] for value in versions] == [b"test-1", b"new"]
