"""Export cells whose record form is fixed by the record schema (DESIGN.md §3, §3.1): postcodes
in their one normal form, dates of death and birth against the incident date and today."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapter.cli import main
from config.settings import Settings
from schemas.incident import IncidentRecordSchema
from tests.importers.conftest import TODAY, convert, make_row, write_csv

POSTCODE = {"liquidlogic": "INCIDENT_POSTCODE", "mosaic": "INCIDENT_POST_CODE"}
DIED = {"liquidlogic": "DEATH_DTTM", "mosaic": "DATE_OF_DEATH"}
BORN = {"liquidlogic": "BIRTH_DTTM", "mosaic": "DATE_OF_BIRTH"}


def _day(system: str, day: dt.date) -> str:
    """``day`` as each system's export writes it."""
    if system == "liquidlogic":
        return f"{day.isoformat()} 00:00:00.000"
    return day.strftime("%d/%m/%Y")


def _outcome(tmp_path: Path, system: str, **overrides: str) -> Any:
    return convert(write_csv(tmp_path / "one.csv", [make_row(system, **overrides)]))


@pytest.mark.parametrize("system", ["liquidlogic", "mosaic"])
@pytest.mark.parametrize(
    ("cell", "stored"),
    [
        ("dn311hu", "DN31 1HU"),
        ("DN311HU", "DN31 1HU"),
        ("  dn31 1hu", "DN31 1HU"),
        ("m11aa", "M1 1AA"),
        ("sw1a1aa", "SW1A 1AA"),
        ("ec1a  1bb", "EC1A 1BB"),
    ],
)
def test_a_postcode_is_converted_to_the_form_the_record_schema_stores(
    tmp_path: Path, system: str, cell: str, stored: str
) -> None:
    """``convert`` checks each record loads back unchanged: a postcode not in the schema's
    normal form (DN311HU for DN31 1HU) would fail that, as it would differ in what is sent."""
    outcome = _outcome(tmp_path, system, **{POSTCODE[system]: cell})
    assert outcome.problems == []
    assert outcome.records[0]["incident"]["location"]["postcode"] == stored


def test_convert_writes_the_postcode_the_record_schema_would_store(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "export.csv", [make_row("mosaic", INCIDENT_POST_CODE="dn332ll")])
    result = CliRunner().invoke(main, ["convert", str(source), "--today", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    written = json.loads(line)["incident"]["location"]["postcode"]
    stored = IncidentRecordSchema(today=TODAY).load(json.loads(line))["incident"]["location"]
    assert written == stored["postcode"] == "DN33 2LL"


@pytest.mark.parametrize("system", ["liquidlogic", "mosaic"])
@pytest.mark.parametrize(
    "died", [TODAY + dt.timedelta(days=1), dt.date(2027, 1, 1), dt.date(9999, 12, 31)]
)
def test_a_date_of_death_after_today_is_a_row_error_saying_what_was_expected(
    tmp_path: Path, system: str, died: dt.date
) -> None:
    cell = _day(system, died)
    outcome = _outcome(tmp_path, system, **{DIED[system]: cell})
    assert outcome.records == []
    assert [(p.row, p.field, p.value) for p in outcome.problems] == [(2, DIED[system], cell)]
    message = outcome.problems[0].message
    assert f"{died.isoformat()} is in the future (today is {TODAY.isoformat()}" in message
    assert "expected the date the child died, on or before today" in message


@pytest.mark.parametrize("system", ["liquidlogic", "mosaic"])
def test_a_date_of_death_of_today_is_taken(tmp_path: Path, system: str) -> None:
    died = TODAY
    outcome = _outcome(tmp_path, system, **{DIED[system]: _day(system, died)})
    assert outcome.problems == []
    assert outcome.records[0]["children"][0]["date_of_death"] == died


BORN_SINCE = dt.date(2026, 11, 20)
"""After the Liquidlogic sample's incident (2026-11-02), before :data:`TODAY`."""

HARMED_NOT_DIED = {
    "INCIDENT_TYPE_DESC": "Serious harm",
    "HARM_OUTCOME_DESC": "Seriously harmed",
    "DEATH_DTTM": "",
    "CP_START_DTTM": "",
    "CP_CATEGORY_DESC": "",
}
"""The Liquidlogic sample's first row, of a child harmed (in utero) rather than killed."""


def test_a_liquidlogic_birth_date_after_the_incident_is_kept_as_a_json_record_would(
    tmp_path: Path,
) -> None:
    """DESIGN.md §3.1 gives Mosaic alone the rule that a later birth date means unborn; a
    Liquidlogic BIRTH_DTTM after the incident is a child harmed before birth and born since,
    which a JSON record states with the date and ``unborn: false``."""
    outcome = _outcome(
        tmp_path, "liquidlogic", BIRTH_DTTM=_day("liquidlogic", BORN_SINCE), **HARMED_NOT_DIED
    )
    assert outcome.problems == []
    child = outcome.records[0]["children"][0]
    assert (child["date_of_birth"], child["unborn"]) == (BORN_SINCE, False)


def test_a_liquidlogic_birth_date_after_today_is_a_row_error_saying_what_was_expected(
    tmp_path: Path,
) -> None:
    cell = _day("liquidlogic", dt.date(2027, 1, 1))
    outcome = _outcome(tmp_path, "liquidlogic", BIRTH_DTTM=cell, **HARMED_NOT_DIED)
    assert [(p.row, p.field, p.value) for p in outcome.problems] == [(2, "BIRTH_DTTM", cell)]
    assert "2027-01-01 is in the future" in outcome.problems[0].message
    assert "expected a date on or before today" in outcome.problems[0].message


def test_an_la_profile_may_refuse_a_birth_date_after_the_incident(tmp_path: Path) -> None:
    """``birth_date_after_incident: error`` stays for an LA whose exports never carry one; the
    message says what was expected, not only what was wrong."""
    profiles = tmp_path / "config" / "profiles"
    profiles.mkdir(parents=True)
    (profiles / "liquidlogic.yaml").write_text("birth_date_after_incident: error\n")
    settings = Settings(config_dir=tmp_path / "config")
    cell = _day("liquidlogic", BORN_SINCE)
    row = make_row("liquidlogic", BIRTH_DTTM=cell, **HARMED_NOT_DIED)
    outcome = convert(write_csv(tmp_path / "one.csv", [row]), settings=settings)
    assert outcome.records == []
    assert [(p.row, p.field, p.value, p.message) for p in outcome.problems] == [
        (
            2,
            "BIRTH_DTTM",
            cell,
            "2026-11-20 is after the incident date 2026-11-02: expected a date of birth on or "
            "before the incident date (this export's profile sets birth_date_after_incident: "
            "error)",
        )
    ]


def test_a_mosaic_birth_date_after_the_incident_still_means_unborn(tmp_path: Path) -> None:
    """DESIGN.md §3.1, Mosaic: a future DATE_OF_BIRTH is an expected one, so the child was
    unborn, whether that date is before today or after it."""
    for born in (dt.date(2026, 11, 20), dt.date(2027, 1, 1)):
        outcome = _outcome(tmp_path, "mosaic", DATE_OF_BIRTH=_day("mosaic", born))
        assert outcome.problems == []
        child = outcome.records[0]["children"][0]
        assert (child["unborn"], child["date_of_birth"]) == (True, None)
