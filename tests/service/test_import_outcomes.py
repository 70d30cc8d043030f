"""What ``POST /imports`` reports (DESIGN.md §3.1, §7): bounded row errors and incident outcomes
with exact counts, one incident's failure kept to that incident, and who may read an import back."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select

from adapter.errors import EventRefused
from adapter.service import casework, import_runs
from adapter.service.import_runs import INCIDENTS_KEPT, ROW_ERRORS_KEPT
from adapter.store.import_runs import import_detail
from adapter.store.models import ImportRunRow, IncidentRow
from adapter.store.sealing import import_aad, open_json, seal_json
from tests.conftest import SAMPLES
from tests.importers.conftest import headers, make_row
from tests.service.test_imports import upload

KEPT = ROW_ERRORS_KEPT


def _mosaic_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers("mosaic"), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _valid(n: int) -> dict[str, str]:
    return make_row("mosaic", INCIDENT_REFERENCE=f"V-{n}", PERSON_ID=f"90{n}")


def _bad(n: int, *, doubled: bool) -> dict[str, str]:
    """A row of its own incident with one bad value (two when ``doubled``)."""
    return make_row(
        "mosaic",
        INCIDENT_REFERENCE=f"B-{n}",
        PERSON_ID=f"80{n}",
        GENDER="Q",
        **({"AGE_ESTIMATED": "maybe"} if doubled else {}),
    )


@pytest.mark.parametrize(
    ("bad", "doubled"),
    [
        pytest.param(1, 0, id="one-error"),
        pytest.param(KEPT, 0, id="exactly-as-many-as-kept"),
        pytest.param(KEPT, 1, id="one-error-over"),
        pytest.param(KEPT + 200, 50, id="many-over"),
    ],
)
def test_row_errors_are_kept_up_to_a_limit_and_counted_exactly(service, bad, doubled):
    """The first errors in file order in full; every rejected row and error in the counts; and
    every valid incident, wherever it sits in the file, still submitted."""
    half = bad // 2
    rows = [
        _valid(1),
        *(_bad(n, doubled=n < doubled) for n in range(half)),
        _valid(2),
        *(_bad(n, doubled=n < doubled) for n in range(half, bad)),
        _valid(3),
    ]
    errors = bad + doubled
    # Row 2 is V-1 and V-2 sits after the first half: the file row of each error, in order.
    bad_rows = [n + 3 if n < half else n + 4 for n in range(bad)]
    expected_rows = [row for n, row in enumerate(bad_rows) for _ in range(1 + (n < doubled))]
    key = service.key()

    response = upload(service, key, "mosaic.csv", _mosaic_csv(rows))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    again = service.get(f"/api/v1/imports/{body['id']}", key).get_json()
    for view in (body, again):
        assert view["error_count"] == errors
        assert view["rows_rejected"] == bad
        assert view["row_errors_truncated"] is (errors > KEPT)
        assert [e["row"] for e in view["row_errors"]] == expected_rows[:KEPT]
        assert [(i["reference"], i["outcome"]) for i in view["incidents"]] == [
            (f"V-{n}", "created") for n in (1, 2, 3)
        ]
        assert view["incidents_created"] == 3
    assert again["row_errors"] == body["row_errors"]


def _before_the_calendar(n: int) -> dict[str, str]:
    """V-``n`` dated 1999, before the bank-holiday calendar begins: converted, then invalid."""
    return _valid(n) | {
        "DATE_OF_INCIDENT": "05/11/1999",
        "DATE_LA_BECAME_AWARE": "06/11/1999",
        "DATE_OF_DEATH": "05/11/1999",
        "DATE_OF_BIRTH": "11/04/1985",
        "REGISTRATION_START_DATE": "01/02/1999",
    }


def _outcomes_of_a_big_import(service: Any, valid: int) -> tuple[Any, str]:
    """An import of ``valid`` new incidents, then one in conflict with a stored incident (an
    import of an earlier file made it, with other facts) and one that is invalid, both last in
    the file; answers the response and the key."""
    key = service.key()
    earlier = _valid(valid) | {"CASE_SUMMARY": "What was known a week earlier."}
    stored = upload(service, key, "first.csv", _mosaic_csv([earlier]))
    assert stored.status_code == 200, stored.get_json()
    rows = [*(_valid(n) for n in range(valid + 1)), _before_the_calendar(valid + 1)]
    return upload(service, key, "mosaic.csv", _mosaic_csv(rows)), key


def test_incident_outcomes_are_kept_up_to_a_limit_and_counted_exactly(service):
    """A 100 000-incident export must not answer (nor store) 100 000 outcomes: the first ones
    in file order in full, and every one in the counts, the failures past the cut included."""
    response, key = _outcomes_of_a_big_import(service, INCIDENTS_KEPT + 1)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    again = service.get(f"/api/v1/imports/{body['id']}", key).get_json()
    staff = service.get(f"/api/v1/imports/{body['id']}", service.key(role="compliance"))
    for view in (body, again, staff.get_json()):
        assert view["incident_count"] == INCIDENTS_KEPT + 3
        assert view["incidents_truncated"] is True
        assert view["incident_outcomes"] == {
            "created": INCIDENTS_KEPT + 1,
            "conflict": 1,
            "invalid": 1,
        }
        assert view["incidents_created"] == INCIDENTS_KEPT + 1
        assert [i["reference"] for i in view["incidents"]] == [
            f"V-{n}" for n in range(INCIDENTS_KEPT)
        ]
    assert again == body
    with service.database.session_scope() as session:
        record = session.get(ImportRunRow, body["id"])
        assert len(import_detail(service.database.keyring, record).incidents) == INCIDENTS_KEPT


@pytest.mark.parametrize(
    ("valid", "truncated"),
    [
        pytest.param(0, False, id="exactly-as-many-as-kept"),
        pytest.param(1, True, id="one-over"),
    ],
)
def test_incident_outcomes_are_cut_only_past_the_limit(service, monkeypatch, valid, truncated):
    """The same bound at its edge, lowered to the two incidents the import always holds."""
    monkeypatch.setattr(import_runs, "INCIDENTS_KEPT", 2)
    response, key = _outcomes_of_a_big_import(service, valid)
    body = response.get_json()
    assert service.get(f"/api/v1/imports/{body['id']}", key).get_json() == body
    assert body["incident_count"] == valid + 2
    assert body["incidents_truncated"] is truncated
    assert body["incident_outcomes"] == {"conflict": 1, "invalid": 1} | (
        {"created": valid} if valid else {}
    )
    expected = [f"V-{n}" for n in range(valid)] + [f"V-{valid}", f"V-{valid + 1}"]
    assert [i["reference"] for i in body["incidents"]] == expected[:2]


def test_an_import_stored_before_outcomes_were_capped_counts_what_it_kept(service):
    """Imports stored with every outcome and no totals read back with totals counted."""
    key = service.key()
    body = upload(
        service, key, "mosaic.csv", (SAMPLES / "mosaic_incidents.csv").read_bytes()
    ).get_json()
    keyring = service.database.keyring
    with service.database.session_scope() as session:
        record = session.get(ImportRunRow, body["id"])
        sealed = open_json(keyring, record.row_errors, import_aad(record.id, record.la_code))
        del sealed["incident_count"], sealed["incident_outcomes"]
        record.row_errors = seal_json(keyring, sealed, import_aad(record.id, record.la_code))
    again = service.get(f"/api/v1/imports/{body['id']}", key).get_json()
    assert again == body
    assert (again["incident_count"], again["incidents_truncated"]) == (2, False)
    assert again["incident_outcomes"] == {"created": 2}


def _aware_in_1999(lines: list[str]) -> list[str]:
    """NEL-2026-002 (rows 3 and 4) dated 1999, before the bank-holiday calendar begins."""
    dated = {"2026-11-09": "1999-11-09", "2026-11-10": "1999-11-10", "2026-01-10": "1999-01-10"}
    dated |= {"2019-07-22": "1990-07-22", "2021-02-03": "1991-02-03"}
    changed = []
    for line in lines:
        if "NEL-2026-002" in line:
            for new, old in dated.items():
                line = line.replace(new, old)
        changed.append(line)
    return changed


def _refuse_nel_2026_002(monkeypatch: pytest.MonkeyPatch) -> None:
    """Submission raises EventRefused for NEL-2026-002 alone (a stand-in for any other error of
    the service's base that one incident's submission can raise)."""
    real = casework.submit_valid

    def submit(session: Any, keyring: Any, policy: Any, principal: Any, record: Any, **kw: Any):
        if record.json["incident"]["reference"] == "NEL-2026-002":
            raise EventRefused("event 0 (rapid_review_completed) is dated before the incident")
        return real(session, keyring, policy, principal, record, **kw)

    monkeypatch.setattr(casework, "submit_valid", submit)


@pytest.mark.parametrize(
    ("spoil", "outcome", "says"),
    [
        pytest.param(
            _aware_in_1999,
            "invalid",
            "1999-11-10 is outside the years whose bank holidays are known",
            id="became-aware-before-the-calendar",
        ),
        pytest.param(
            None,
            "refused",
            "event 0 (rapid_review_completed) is dated before the incident",
            id="event-refused",
        ),
    ],
)
def test_one_incident_that_cannot_be_submitted_does_not_stop_the_others(
    service, monkeypatch, spoil, outcome, says
):
    lines = (SAMPLES / "liquidlogic_incidents.csv").read_text(encoding="utf-8").splitlines()
    if spoil is None:
        _refuse_nel_2026_002(monkeypatch)
    else:
        lines = spoil(lines)
    key = service.key()

    response = upload(service, key, "ll.csv", ("\n".join(lines) + "\n").encode())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    first, second, third = body["incidents"]
    assert (first["outcome"], third["outcome"]) == ("created", "created")
    assert (second["reference"], second["outcome"], second["id"]) == (
        "NEL-2026-002",
        outcome,
        None,
    )
    assert second["detail"].startswith(
        f"incident NEL-2026-002 (rows 3, 4) was not submitted: {says}"
    )
    assert body["incidents_created"] == 2
    assert service.get(f"/api/v1/imports/{body['id']}", key).get_json()["incidents"] == [
        first,
        second,
        third,
    ]
    with service.database.session_scope() as session:
        stored = session.scalars(
            select(IncidentRow.reference).order_by(IncidentRow.reference)
        ).all()
    assert stored == ["NEL-2026-001", "NEL-2026-003"]


@pytest.mark.parametrize(
    ("creator", "reader", "status"),
    [
        pytest.param("agency", "the creator", 200, id="agency-reads-its-own"),
        pytest.param("agency", "agency", 404, id="agency-not-another-agency-keys"),
        pytest.param("local_authority", "agency", 404, id="agency-not-the-las"),
        pytest.param("agency", "agency@999", 404, id="agency-not-another-las"),
        pytest.param("agency", "local_authority", 200, id="la-reads-its-agencies"),
        pytest.param("local_authority", "compliance", 200, id="compliance-reads-the-las"),
    ],
)
def test_an_agency_key_reads_only_the_imports_it_made(service, creator, reader, status):
    """§7: an ``agency`` key refers; the LA's imports (their row errors quote its records) are
    not its to read, and an import it may not see answers 404 like another LA's."""
    created_by = service.key(role=creator)
    body = upload(
        service, created_by, "mosaic.csv", (SAMPLES / "mosaic_incidents.csv").read_bytes()
    ).get_json()
    if reader == "the creator":
        reading = created_by
    else:
        role, _, la = reader.partition("@")
        reading = service.key(role=role, la=la or "812")
    response = service.get(f"/api/v1/imports/{body['id']}", reading)
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["incidents"] == body["incidents"]


@pytest.mark.parametrize("role", ["admin", "compliance"])
def test_admin_and_compliance_keys_see_where_an_import_failed_not_what_it_said(service, role):
    """§7: those roles work queues, retries, receipts and audit; a row error's value and
    message quote the export (an NHS number here), so they see the row and field only."""
    bad = _valid(1) | {"NHS_ID": "943 476 5918"}  # a wrong check digit
    la = service.key(role="local_authority")
    body = upload(service, la, "mosaic.csv", _mosaic_csv([bad, _valid(2)])).get_json()
    assert any("5918" in str(error) for error in body["row_errors"])

    seen = service.get(f"/api/v1/imports/{body['id']}", service.key(role=role)).get_json()
    assert seen["row_errors"] == [
        {"row": error["row"], "field": error["field"]} for error in body["row_errors"]
    ]
    assert "5918" not in str(seen)
    assert [i["reference"] for i in seen["incidents"]] == [
        i["reference"] for i in body["incidents"]
    ]
