"""Profiles (DESIGN.md §3.1): YAML configuration, detection from headers, an LA's own additions."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.errors import ExportError, UnrecognisedExport
from adapter.importers import load_profile
from adapter.importers.profiles import choose_profile, header_key
from config.settings import Settings, SettingsError
from tests.importers.conftest import convert, headers, make_row, write_csv


@pytest.mark.parametrize("system", ["liquidlogic", "mosaic"])
def test_shipped_profiles_load_once(system: str) -> None:
    profile = load_profile(system, Settings())
    assert profile.system == system
    assert load_profile(system, Settings()) is profile
    assert profile.values["incident.nature"]["serious harm"] == "serious_harm"
    assert profile.values["incident.nature"]["serious_harm"] == "serious_harm"  # the code itself


def test_header_matching_ignores_case_spaces_and_a_byte_order_mark() -> None:
    assert header_key("\ufeff  dim_person_id ") == "DIM_PERSON_ID"
    assert header_key("Date  of birth") == "DATE OF BIRTH"


@pytest.mark.parametrize("system", ["liquidlogic", "mosaic"])
def test_detected_from_the_header_set(system: str) -> None:
    assert choose_profile(headers(system), "auto", Settings()).system == system


def test_a_forced_system_is_used_without_detection() -> None:
    assert choose_profile(["anything"], "mosaic", Settings()).system == "mosaic"


def test_neither_system_names_the_columns_each_lacks() -> None:
    with pytest.raises(UnrecognisedExport) as caught:
        choose_profile(["NAME", "DOB", "INCIDENT_DATE"], "auto", Settings())
    missing = caught.value.missing
    assert missing["liquidlogic"][:2] == ["DIM_PERSON_ID", "*_DTTM"]
    assert missing["mosaic"][:2] == ["PERSON_ID", "FULL_ETHNICITY_CODE"]
    assert "INCIDENT_REF" in missing["liquidlogic"]
    assert "as mosaic it lacks PERSON_ID, FULL_ETHNICITY_CODE" in str(caught.value)


def test_matching_both_signatures_asks_for_a_system() -> None:
    both = ["DIM_PERSON_ID", "BIRTH_DTTM", "PERSON_ID", "FULL_ETHNICITY_CODE"]
    with pytest.raises(ExportError, match="--system"):
        choose_profile(both, "auto", Settings())


def _own_profile(tmp_path: Path, system: str, text: str) -> Settings:
    folder = tmp_path / "config"
    (folder / "profiles").mkdir(parents=True)
    (folder / "profiles" / f"{system}.yaml").write_text(text, encoding="utf-8")
    return Settings(config_dir=folder)


def test_an_la_adds_an_alias_and_a_value_without_code(tmp_path: Path) -> None:
    settings = _own_profile(
        tmp_path,
        "liquidlogic",
        "columns:\n  incident.reference: [SI_REF]\n"
        "values:\n  incident.setting:\n    Short break unit: residential_childrens_home\n",
    )
    row = make_row("liquidlogic", INCIDENT_SETTING_DESC="short break UNIT")
    columns = ["SI_REF" if c == "INCIDENT_REF" else c for c in headers("liquidlogic")]
    row["SI_REF"] = row.pop("INCIDENT_REF")
    outcome = convert(write_csv(tmp_path / "own.csv", [row], columns), settings=settings)
    (record,) = outcome.records
    assert record["incident"]["reference"] == "NEL-2026-001"
    assert record["incident"]["setting"] == "residential_childrens_home"
    # The shipped aliases and values still apply.
    shipped = convert(
        write_csv(tmp_path / "shipped.csv", [make_row("liquidlogic")]), settings=settings
    )
    assert shipped.records[0]["incident"]["setting"] == "home"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("colums: {}\n", "unknown key(s) colums"),
        ("columns:\n  incident.refrence: [X]\n", "columns.incident.refrence: not an input field"),
        ("values:\n  incident.nature:\n    Fatal: dead\n", "values.incident.nature.Fatal: 'dead'"),
        ("values:\n  child.disability:\n    NONE: no\n", "values.child.disability.NONE"),
        ("values:\n  child.sex:\n    yes: male\n", "values.child.sex.True: quote the value"),
        ("values:\n  child.forenames:\n    Bob: Robert\n", "values.child.forenames: no value map"),
        ("sentinels:\n  postcode_patterns: ['X+(']\n", "sentinels.postcode_patterns"),
        ("sentinels:\n  blanks: [N/A]\n", "sentinels: unknown key(s) blanks"),
        ("ethnicity_prefix_length: two\n", "ethnicity_prefix_length: expected 0 to 4"),
        ("birth_date_after_incident: maybe\n", "birth_date_after_incident: expected one of"),
        ("columns: [LA_CODE]\n", "columns: expected a mapping"),
        ("columns: {a: [b]\n", "not valid YAML"),
    ],
)
def test_a_bad_profile_names_the_bad_key(tmp_path: Path, text: str, names: str) -> None:
    settings = _own_profile(tmp_path, "mosaic", text)
    with pytest.raises(SettingsError) as caught:
        load_profile("mosaic", settings)
    assert names in str(caught.value)
    assert "mosaic.yaml" in str(caught.value)


def test_an_unknown_system_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="expected one of liquidlogic, mosaic"):
        load_profile("eclipse", Settings())
