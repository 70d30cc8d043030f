"""``POST /imports`` (DESIGN.md §3.1, §7): both sample exports become incidents and deliveries."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from sqlalchemy import func, select, text

from adapter.store.models import ImportRunRow
from tests.conftest import SAMPLES
from tests.importers.conftest import make_row, zip_bomb


def post_upload(service, key, name: str, content: bytes, **form: str):
    """``POST /imports``: the answer as it comes (202 once stored and queued)."""
    data = {"file": (io.BytesIO(content), name), **form}
    return service.client.post(
        "/api/v1/imports",
        data=data,
        headers=service.headers(key),
        content_type="multipart/form-data",
    )


def upload(service, key, name: str, content: bytes, **form: str):
    """Upload an export and run its import in the background job: the import once it has run
    (``GET`` of its ``Location``), or the refusal of the upload."""
    response = post_upload(service, key, name, content, **form)
    if response.status_code != 202:
        return response
    assert response.get_json()["status"] == "queued"
    service.run_imports()
    return service.client.get(response.headers["Location"], headers=service.headers(key))


@pytest.mark.parametrize(
    ("sample", "system", "references"),
    [
        (
            "liquidlogic_incidents.csv",
            "liquidlogic",
            ["NEL-2026-001", "NEL-2026-002", "NEL-2026-003"],
        ),
        ("mosaic_incidents.csv", "mosaic", ["MOS-INC-0101", "MOS-INC-0102"]),
    ],
)
def test_a_sample_export_becomes_incidents_with_their_deliveries(
    service, sample, system, references
):
    key = service.key()
    content = (SAMPLES / sample).read_bytes()
    accepted = post_upload(service, key, sample, content)
    assert accepted.status_code == 202, accepted.get_json()
    queued = accepted.get_json()
    assert accepted.headers["Location"].endswith(f"/api/v1/imports/{queued['id']}")
    assert (queued["status"], queued["rows_read"], queued["incidents"]) == ("queued", 0, [])
    assert queued["rows_total"] == len(content.splitlines()) - 1

    service.run_imports()
    body = service.get(f"/api/v1/imports/{queued['id']}", key).get_json()
    assert body["status"] == "done"
    assert body["system"] == system
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["row_errors"] == []
    assert [i["reference"] for i in body["incidents"]] == references
    assert {i["outcome"] for i in body["incidents"]} == {"created"}
    assert body["rows_read"] == queued["rows_total"]
    assert body["incidents_created"] == len(references)

    service.work()
    deliveries = service.get("/api/v1/deliveries", key).get_json()["items"]
    assert deliveries and {d["status"] for d in deliveries} == {"acknowledged"}


def test_reimporting_the_same_export_creates_nothing_new(service):
    key = service.key()
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    upload(service, key, "mosaic.csv", content)
    body = upload(service, key, "mosaic.csv", content).get_json()
    assert {i["outcome"] for i in body["incidents"]} == {"identical"}
    assert body["incidents_created"] == 0


def test_next_weeks_export_of_unchanged_incidents_is_identical_not_a_conflict(service):
    """Another file name, the rows in another order: where a record came from is not a fact
    about the incident (§4: one notification per incident), so nothing conflicts."""
    key = service.key()
    header, *rows = (SAMPLES / "mosaic_incidents.csv").read_bytes().splitlines(keepends=True)
    upload(service, key, "mosaic-week-1.csv", b"".join([header, *rows]))
    body = upload(service, key, "mosaic-week-2.csv", b"".join([header, *rows[::-1]])).get_json()
    assert {i["outcome"] for i in body["incidents"]} == {"identical"}


def test_bad_rows_are_reported_and_the_rest_still_go_in(service):
    key = service.key()
    lines = (SAMPLES / "mosaic_incidents.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("05/11/2026,06/11/2026", "31/02/2026,06/11/2026")
    body = upload(service, key, "mosaic.csv", "\n".join(lines).encode()).get_json()
    assert [i["reference"] for i in body["incidents"]] == ["MOS-INC-0102"]
    assert body["row_errors"][0]["row"] == 2
    assert body["row_errors"][0]["field"] == "DATE_OF_INCIDENT"


def test_an_export_of_another_la_is_refused_per_incident(service):
    key = service.key(la="999")
    body = upload(
        service, key, "mosaic.csv", (SAMPLES / "mosaic_incidents.csv").read_bytes()
    ).get_json()
    assert {i["outcome"] for i in body["incidents"]} == {"refused"}


@pytest.mark.parametrize(
    ("name", "content", "status", "says"),
    [
        ("notes.csv", b"just,some,columns\n1,2,3\n", 422, "not a Liquidlogic or Mosaic export"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, 422, "holds binary data"),
        ("boms.csv", b"\xef\xbb\xbf\xef\xbb\xbf\n", 422, "boms.csv has no header row"),
        ("bomb.xlsx", zip_bomb(), 422, "this looks like a zip bomb"),
    ],
)
def test_an_unreadable_export_is_a_problem(service, name, content, status, says):
    response = upload(service, service.key(), name, content)
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert says in response.get_json()["detail"]
    with service.database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ImportRunRow)) == 0


def test_a_byte_order_mark_on_its_own_line_before_the_header_is_skipped(service):
    content = b"\xef\xbb\xbf\xef\xbb\xbf\n" + (SAMPLES / "mosaic_incidents.csv").read_bytes()
    response = upload(service, service.key(), "mosaic.csv", content)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(i["reference"], i["outcome"], i["rows"]) for i in body["incidents"]] == [
        ("MOS-INC-0101", "created", [3]),
        ("MOS-INC-0102", "created", [4]),
    ]


def test_the_file_field_is_required_and_keys_are_checked(service):
    response = service.client.post(
        "/api/v1/imports",
        data={},
        headers=service.headers(service.key()),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert post_upload(service, service.key(role="compliance"), "x.csv", b"a").status_code == 403


def test_another_las_import_is_not_found(service):
    body = upload(
        service, service.key(), "mosaic.csv", (SAMPLES / "mosaic_incidents.csv").read_bytes()
    ).get_json()
    other = service.key(la="999")
    assert service.get(f"/api/v1/imports/{body['id']}", other).status_code == 404


NAMED = "SI notification - Zebedee Quartermain DOB 19-07-2014.csv"
"""How such exports are often named: after the child."""


@pytest.mark.parametrize(
    ("reader", "sees"),
    [
        pytest.param("local_authority", NAMED, id="the-la"),
        pytest.param("admin", None, id="admin"),
        pytest.param("compliance", None, id="compliance"),
    ],
)
def test_the_uploads_filename_is_sealed_and_shown_only_to_the_la(service, reader, sees):
    """The filename may name the child: it is stored encrypted, and shown like a row error's
    value, to the keys that read the LA's records (§7), never to admin and compliance keys."""
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    body = upload(service, service.key(), NAMED, content).get_json()
    assert body["filename"] == NAMED

    seen = service.get(f"/api/v1/imports/{body['id']}", service.key(role=reader)).get_json()
    assert seen["filename"] == sees
    assert seen["sha256"] == hashlib.sha256(content).hexdigest()  # not personal: for all
    if sees is None:
        assert "Quartermain" not in str(seen)
    with service.database.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM imports")).one()
    assert "Quartermain" not in str(row)


def test_a_child_born_after_the_incident_is_submitted_with_its_date_of_birth(service):
    """A Liquidlogic child harmed before birth and born since (BIRTH_DTTM after the incident)
    goes in with its date of birth, as the same record posted as JSON would (DESIGN.md §3.1)."""
    row = make_row(
        "liquidlogic",
        INCIDENT_TYPE_DESC="Serious harm",
        HARM_OUTCOME_DESC="Seriously harmed",
        DEATH_DTTM="",
        CP_START_DTTM="",
        CP_CATEGORY_DESC="",
        BIRTH_DTTM="2026-11-20 00:00:00.000",
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    key = service.key()
    body = upload(service, key, "ll.csv", buffer.getvalue().encode()).get_json()
    assert body["row_errors"] == []
    (incident,) = body["incidents"]
    assert incident["outcome"] == "created", incident
    record = service.get(f"/api/v1/incidents/{incident['id']}", key).get_json()["record"]
    child = record["children"][0]
    assert (child["date_of_birth"], child["unborn"]) == ("2026-11-20", False)
