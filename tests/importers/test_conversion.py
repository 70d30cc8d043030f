"""Rows → incident records (DESIGN.md §3, §3.1): quirks, derived fields, grouping, row problems."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest

from adapter.errors import ExportError, UnrecognisedExport
from adapter.importers import Converted, Rejected, convert_export
from schemas.incident import MAX_CHILDREN
from tests.conftest import SAMPLES
from tests.importers.conftest import (
    TODAY,
    convert,
    headers,
    make_row,
    sample_rows,
    write_csv,
)

LIQUIDLOGIC = SAMPLES / "liquidlogic_incidents.csv"
MOSAIC = SAMPLES / "mosaic_incidents.csv"


def one(tmp_path: Path, system: str, **overrides: str) -> dict[str, Any]:
    """The record of a one-row export with ``overrides``; fails if the row was rejected."""
    outcome = convert(write_csv(tmp_path / "one.csv", [make_row(system, **overrides)]))
    assert outcome.problems == []
    return outcome.records[0]


def problems_of(tmp_path: Path, system: str, **overrides: str) -> list[tuple[Any, ...]]:
    """``(row, column, value, message)`` of a one-row export that must be rejected."""
    outcome = convert(write_csv(tmp_path / "one.csv", [make_row(system, **overrides)]))
    assert outcome.records == []
    return [(p.row, p.field, p.value, p.message) for p in outcome.problems]


def test_the_liquidlogic_sample(tmp_path: Path) -> None:
    outcome = convert(LIQUIDLOGIC)
    assert outcome.problems == []
    first, siblings, looked_after = outcome.records
    assert first["incident"]["time"] == "14:30"
    assert first["children"][0]["child_protection_plan"] == {
        "active": True, "category": "NEG", "start_date": dt.date(2026, 5, 1)
    }  # fmt: skip
    assert first["source"] == {
        "system": "liquidlogic", "file": "liquidlogic_incidents.csv", "row": 2,
        "record_ids": ["100234"],
    }  # fmt: skip
    assert [c["forenames"] for c in siblings["children"]] == ["Leo", "Mia"]
    assert siblings["source"]["row"] == 3 and siblings["source"]["record_ids"] == [
        "100311",
        "100312",
    ]
    assert siblings["children"][0]["child_in_need_plan"] is True
    assert looked_after["incident"]["setting"] == "residential_childrens_home"
    assert looked_after["children"][0]["looked_after"] is True
    assert looked_after["children"][0]["placement_type"] == "K2"
    assert outcome.summary.complete and outcome.summary.incidents_converted == 3


def test_the_mosaic_sample() -> None:
    outcome = convert(MOSAIC)
    suicide, care_leaver = outcome.records
    assert suicide["incident"]["suicide"] is True
    assert suicide["children"][0]["ethnicity"] == "WBRI"  # A1WBRI: a local prefix
    assert care_leaver["children"][0]["care_leaver"] is True
    assert care_leaver["children"][0]["looked_after"] is False  # the episode ended in 2024
    assert outcome.summary.rows_read == 2 and outcome.summary.complete


def test_headers_in_any_order_case_and_spacing(tmp_path: Path) -> None:
    rows = sample_rows("liquidlogic")
    columns = list(rows[0])
    random.Random(7).shuffle(columns)
    renamed = {column: f" {column.lower()}  " for column in columns}
    quirky = [{renamed[c]: row[c] for c in columns} for row in rows]
    outcome = convert(write_csv(tmp_path / "liquidlogic_incidents.csv", quirky))
    assert outcome.records == convert(LIQUIDLOGIC).records


@pytest.mark.parametrize(
    ("column", "cell", "path", "expected"),
    [
        ("INCIDENT_POSTCODE", "XXXX XXX", ("incident", "location", "postcode"), None),
        ("INCIDENT_POSTCODE", "xx xx", ("incident", "location", "postcode"), None),
        ("INCIDENT_POSTCODE", "NOPOSTCODE", ("incident", "location", "postcode"), None),
        ("INCIDENT_POSTCODE", "NOT FOUND", ("incident", "location", "postcode"), None),
        ("INCIDENT_POSTCODE", " dn31   1hu ", ("incident", "location", "postcode"), "DN31 1HU"),
        ("FORENAME", "UNKNOWN", ("children", 0, "forenames"), None),
        ("SURNAME", " not found ", ("children", 0, "surname"), None),
        ("GENDER_MAIN_CODE", "unknown", ("children", 0, "sex"), "not_known"),
        ("GENDER_MAIN_CODE", " i ", ("children", 0, "sex"), "not_known"),
        ("ETHNICITY_MAIN_CODE", "wbri", ("children", 0, "ethnicity"), "WBRI"),
        ("DIM_LOOKUP_DISAB_CODE", "AUT", ("children", 0, "disability"), "yes"),
        ("DIM_LOOKUP_DISAB_CODE", "", ("children", 0, "disability"), None),
        ("DOB_ESTIMATED", "Y", ("children", 0, "date_of_birth_estimated"), True),
        ("SUICIDE_FLAG", "yes", ("incident", "suicide"), True),
        ("HISTORICAL_HARM_FLAG", "0", ("incident", "historical_harm"), False),
        ("INCIDENT_SETTING_DESC", "  SCHOOL ", ("incident", "setting"), "school"),
        ("CP_CATEGORY_DESC", "physical ABUSE", ("children", 0, "child_protection_plan",
                                                "category"), "PHY"),
        ("ABUSE_NEGLECT_DESC", "not known or suspected", ("incident", "abuse_or_neglect"),
         "not_known_or_suspected"),
        ("DIM_LOOKUP_ELIGIBILITY_STATUS_DESC", "Relevant", ("children", 0, "care_leaver"), True),
        ("DIM_LOOKUP_ELIGIBILITY_STATUS_DESC", "Eligible", ("children", 0, "care_leaver"), False),
    ],
)  # fmt: skip
def test_cells_as_real_exports_write_them(
    tmp_path: Path, column: str, cell: str, path: tuple[Any, ...], expected: Any
) -> None:
    value: Any = one(tmp_path, "liquidlogic", **{column: cell})
    for key in path:
        value = value[key]
    assert value == expected


def test_a_minus_one_person_id_is_a_child_whose_identity_is_not_known(tmp_path: Path) -> None:
    child = one(tmp_path, "liquidlogic", DIM_PERSON_ID="-1", FORENAME="", SURNAME="")
    record = child
    assert record["children"][0]["identity_known"] is False
    assert record["children"][0]["local_id"] is None
    assert record["source"]["record_ids"] == []


def test_a_blank_mosaic_person_id_is_a_child_whose_identity_is_not_known(tmp_path: Path) -> None:
    record = one(tmp_path, "mosaic", PERSON_ID=" ")
    assert record["children"][0]["identity_known"] is False


def test_a_mosaic_birth_date_after_the_incident_means_unborn(tmp_path: Path) -> None:
    record = one(tmp_path, "mosaic", DATE_OF_BIRTH="01/01/2027", AGE_ESTIMATED="Y")
    child = record["children"][0]
    assert (child["unborn"], child["date_of_birth"], child["date_of_birth_estimated"]) == (
        True, None, None
    )  # fmt: skip


# The Liquidlogic sample's first incident is on 2026-11-02.
ON = "2026-11-02 00:00:00.000"
BEFORE = "2026-10-01 00:00:00.000"
AFTER = "2026-11-03 00:00:00.000"


@pytest.mark.parametrize(
    ("start", "end", "active"),
    [
        (ON, "", True),  # started on the incident date: open
        (BEFORE, ON, False),  # ended on the incident date: closed
        (BEFORE, AFTER, True),
        (BEFORE, "", True),
        (AFTER, "", False),  # starts after the incident
        ("", "", False),
    ],
)
def test_plans_and_episodes_count_when_open_on_the_incident_date(
    tmp_path: Path, start: str, end: str, active: bool
) -> None:
    record = one(
        tmp_path,
        "liquidlogic",
        CP_START_DTTM=start,
        CP_END_DTTM=end,
        CP_CATEGORY_DESC="Neglect" if start else "",
        CIN_PLAN_START_DTTM=start,
        CIN_PLAN_END_DTTM=end,
        CARE_START_DATE=start,
        CARE_END_DATE=end,
        DIM_LOOKUP_PLACEMENT_TYPE_CODE="U1" if start else "",
    )
    child = record["children"][0]
    assert child["child_protection_plan"]["active"] is active
    assert child["child_in_need_plan"] is active
    assert child["looked_after"] is active
    assert child["placement_type"] == ("U1" if active else None)


def test_a_plan_category_without_a_start_date_is_not_known_to_be_open(tmp_path: Path) -> None:
    record = one(tmp_path, "liquidlogic", CP_START_DTTM="", CP_CATEGORY_DESC="Multiple")
    assert record["children"][0]["child_protection_plan"] == {
        "active": None, "category": "MUL", "start_date": None
    }  # fmt: skip


def test_an_episode_ending_before_it_starts_is_a_problem(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "liquidlogic", CARE_START_DATE=AFTER, CARE_END_DATE=ON)
    assert problem == (2, "CARE_END_DATE", ON, "is before the start date 2026-11-03")


def test_columns_an_export_lacks_are_not_known(tmp_path: Path) -> None:
    row = make_row("mosaic")
    lacking = {"CLA_START_DATE", "CLA_END_DATE", "PLACEMENT_TYPE", "CARE_LEAVER_ELIGIBILITY",
               "REGISTRATION_START_DATE", "UPN_ID"}  # fmt: skip
    columns = [column for column in row if column not in lacking]
    (record,) = convert(write_csv(tmp_path / "short.csv", [row], columns)).records
    child = record["children"][0]
    assert (child["looked_after"], child["care_leaver"], child["child_protection_plan"]) == (
        None, None, None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("column", "cell", "says"),
    [
        ("INCIDENT_DTTM", "31/02/2026", "there is no day 31 in month 2"),
        ("BIRTH_DTTM", "02/13/2010", "never guessed"),
        ("INCIDENT_TYPE_DESC", "Fatality", "expected one of: Death, Serious harm, Other"),
        ("GENDER_MAIN_CODE", "X", "'X' is not a known value; expected one of: M, Male"),
        ("ETHNICITY_MAIN_CODE", "ZZZZ", "'ZZZZ' is not a known value"),
        ("HARM_OUTCOME_DESC", "", "required: child.outcome may not be blank"),
        ("LA_AWARE_DTTM", "UNKNOWN", "required: incident.became_aware_on may not be blank"),
        ("SUICIDE_FLAG", "perhaps", "expected Y/N, YES/NO, TRUE/FALSE or 1/0"),
        ("LA_CODE", "81", "expected a 3-digit LA code"),
        ("NHS_NUMBER", "9434765910", "not a valid NHS number"),
        ("UPN", "812100234001", "is not a UPN"),
        ("NOTIFIER_EMAIL", "j.smith at example", "Not a valid email address"),
        ("INCIDENT_POSTCODE", "NOWHERE", "'NOWHERE' is not a UK postcode"),
        ("FORENAME", "A" * 201, "is 201 characters long; at most 200 fit"),
    ],
)
def test_a_bad_cell_is_reported_with_its_row_column_and_value(
    tmp_path: Path, column: str, cell: str, says: str
) -> None:
    problems = problems_of(tmp_path, "liquidlogic", **{column: cell})
    assert [(row, field, value) for row, field, value, _ in problems] == [(2, column, cell)]
    assert says in problems[0][3]


def test_a_missing_required_column_refuses_the_file(tmp_path: Path) -> None:
    row = make_row("mosaic")
    columns = [column for column in row if column != "OUTCOME"]
    with pytest.raises(UnrecognisedExport, match="as mosaic it lacks OUTCOME"):
        convert(write_csv(tmp_path / "short.csv", [row], columns))


@pytest.mark.parametrize(
    ("overrides", "column", "says"),
    [
        ({"HARM_OUTCOME_DESC": "Seriously harmed", "DEATH_DTTM": ""}, "INCIDENT_TYPE_DESC",
         "'death' disagrees with the children's outcomes"),
        ({"HARM_OUTCOME_DESC": "Not harmed", "DEATH_DTTM": "", "INCIDENT_TYPE_DESC": "Other"},
         "OTHER_RATIONALE", "required when nature is 'other'"),
        ({"HARM_OUTCOME_DESC": "Unknown"}, "DEATH_DTTM", "outcome is 'unknown', not 'died'"),
        ({"LA_AWARE_DTTM": "2026-11-28 00:00:00.000"}, "LA_AWARE_DTTM", "is in the future"),
        ({"LA_AWARE_DTTM": "2026-11-01 00:00:00.000"}, "LA_AWARE_DTTM",
         "is before the incident date"),
        ({"BIRTH_DTTM": ""}, "BIRTH_DTTM", "needs date_of_birth, age_years or unborn"),
    ],
)  # fmt: skip
def test_consistency_problems_name_the_row_and_column(
    tmp_path: Path, overrides: dict[str, str], column: str, says: str
) -> None:
    problems = problems_of(tmp_path, "liquidlogic", **overrides)
    assert [(row, field) for row, field, _, _ in problems] == [(2, column)]
    assert says in problems[0][3]


def test_today_decides_what_is_in_the_future(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "one.csv", [make_row("liquidlogic")])
    assert convert(path, today=dt.date(2026, 11, 3)).records
    assert not convert(path, today=dt.date(2026, 11, 2)).records


def _incident(reference: str, children: int, **overrides: str) -> list[dict[str, str]]:
    return [
        make_row("liquidlogic", INCIDENT_REF=reference, DIM_PERSON_ID=f"{reference}-{n}",
                 **overrides)
        for n in range(children)
    ]  # fmt: skip


def test_rows_sharing_a_reference_are_one_incident(tmp_path: Path) -> None:
    rows = _incident("A", 3) + _incident("B", 1)
    outcome = convert(write_csv(tmp_path / "group.csv", rows))
    a, b = outcome.records
    assert len(a["children"]) == 3 and a["source"]["row"] == 2
    assert a["source"]["record_ids"] == ["A-0", "A-1", "A-2"]
    assert b["source"]["row"] == 5
    assert [r.rows for r in outcome.results] == [(2, 3, 4), (5,)]


def test_rows_of_an_incident_that_disagree_are_rejected_naming_both_values(
    tmp_path: Path,
) -> None:
    rows = _incident("A", 2) + _incident("B", 1)
    rows[1]["INCIDENT_TYPE_DESC"] = "Serious harm"
    rows[1]["CASE_OUTLINE"] = rows[1]["CASE_OUTLINE"] + " (updated)"
    outcome = convert(write_csv(tmp_path / "disagree.csv", rows))
    assert [r["incident"]["reference"] for r in outcome.records] == ["B"]
    (rejected,) = [r for r in outcome.results if isinstance(r, Rejected)]
    assert rejected.incident == "A" and rejected.rows == (2, 3)
    found = {(p.row, p.field): p for p in rejected.problems}
    nature = found[(3, "INCIDENT_TYPE_DESC")]
    assert nature.value == "Serious harm"
    assert "disagrees with row 2 of incident A, which has 'Death'" in nature.message
    assert (3, "CASE_OUTLINE") in found
    assert found[(2, "INCIDENT_REF")].message.startswith("not converted: incident A is rejected")


def test_case_and_spacing_of_coded_values_do_not_count_as_disagreement(tmp_path: Path) -> None:
    rows = _incident("A", 2)
    rows[1]["INCIDENT_TYPE_DESC"] = " DEATH "
    (record,) = convert(write_csv(tmp_path / "agree.csv", rows)).records
    assert len(record["children"]) == 2


def test_rows_of_an_incident_that_are_apart_are_all_rejected(tmp_path: Path) -> None:
    rows = _incident("A", 1) + _incident("B", 1) + _incident("A", 1) + _incident("C", 1)
    rows[2]["DIM_PERSON_ID"] = "A-9"
    outcome = convert(write_csv(tmp_path / "apart.csv", rows))
    assert [r["incident"]["reference"] for r in outcome.records] == ["B", "C"]
    messages = {p.row: p.message for p in outcome.problems}
    assert set(messages) == {2, 4}
    assert "it reappears at row 4 after rows of other incidents" in messages[2]
    assert outcome.summary.rows_rejected == 2 and not outcome.summary.complete


def test_a_child_twice_in_one_incident_is_a_problem(tmp_path: Path) -> None:
    rows = _incident("A", 2)
    rows[1]["DIM_PERSON_ID"] = rows[0]["DIM_PERSON_ID"]
    outcome = convert(write_csv(tmp_path / "twice.csv", rows))
    assert outcome.problem_at(3)[0].message.startswith("child A-0 is already in incident A")


def test_more_children_than_a_record_holds_is_a_problem(tmp_path: Path) -> None:
    too_many = MAX_CHILDREN + 1
    outcome = convert(write_csv(tmp_path / "many.csv", _incident("A", too_many)))
    assert outcome.records == []
    message = outcome.problem_at(too_many + 1)[0].message
    assert message == f"incident A has more than {MAX_CHILDREN} children"
    assert outcome.summary.rows_rejected == too_many


def test_a_ragged_row_of_an_incident_already_read_rejects_it(tmp_path: Path) -> None:
    rows = [list(row.values()) for row in _incident("A", 1) + _incident("B", 1) + _incident("A", 1)]
    rows[2].append("extra")
    path = tmp_path / "late.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([headers("liquidlogic"), *rows])
    outcome = convert(path)
    assert [r["incident"]["reference"] for r in outcome.records] == ["B"]
    assert "it reappears at row 4" in outcome.problem_at(2)[0].message
    assert outcome.problem_at(4)[0].message.startswith("has 38 cells")


def test_a_blank_or_overlong_reference_is_a_row_of_no_incident(tmp_path: Path) -> None:
    rows = _incident("A", 1) + _incident("", 1) + _incident("R" * 101, 1) + _incident("A", 1)
    rows[3]["DIM_PERSON_ID"] = "A-9"
    outcome = convert(write_csv(tmp_path / "refs.csv", rows))
    (record,) = outcome.records
    assert len(record["children"]) == 2  # the rows between belong to no incident
    assert outcome.problem_at(3)[0].message.startswith("required: incident.reference")
    assert outcome.problem_at(4)[0].message == "is 101 characters long; at most 100 fit"


def test_a_bad_row_does_not_stop_the_others(tmp_path: Path) -> None:
    rows = _incident("A", 1) + _incident("B", 2) + _incident("C", 1)
    rows[2]["BIRTH_DTTM"] = "31/02/2020"
    outcome = convert(write_csv(tmp_path / "bad.csv", rows))
    assert [r["incident"]["reference"] for r in outcome.records] == ["A", "C"]
    assert [(p.row, p.field) for p in outcome.problems] == [(3, "INCIDENT_REF"), (4, "BIRTH_DTTM")]
    summary = outcome.summary
    assert (summary.rows_read, summary.incidents_converted, summary.rows_rejected) == (4, 2, 2)
    assert summary.incidents_rejected == 1


def test_a_conversion_is_iterated_once_and_closes_its_file() -> None:
    conversion = convert_export(LIQUIDLOGIC, today=TODAY)
    assert conversion.system == "liquidlogic" and conversion.survey.rows == 4
    assert all(isinstance(result, Converted) for result in conversion)
    with pytest.raises(RuntimeError, match="only once"):
        list(conversion)
    with convert_export(LIQUIDLOGIC, today=TODAY):
        pass  # closed without being iterated: no ResourceWarning (warnings are errors)


def test_every_column_of_both_profiles_is_read(tmp_path: Path) -> None:
    for system in ("liquidlogic", "mosaic"):
        extras = {"liquidlogic": {"LA_NAME": "North East Lincolnshire", "HARM_DESC": "x"},
                  "mosaic": {"LA_NAME": "North East Lincolnshire", "TIME_OF_INCIDENT": "09:15",
                             "HARM_DESCRIPTION": "x"}}[system]  # fmt: skip
        row = {**make_row(system), **extras}
        (record,) = convert(
            write_csv(tmp_path / f"{system}.csv", [row], [*headers(system), *extras])
        ).records
        assert record["local_authority"]["name"] == "North East Lincolnshire"
        assert record["children"][0]["harm_description"] == "x"
        if system == "mosaic":
            assert record["incident"]["time"] == "09:15"


def test_a_column_the_profile_uses_twice_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    lines = MOSAIC.read_text(encoding="utf-8").splitlines()
    path.write_text(f"{lines[0]},gender \n{lines[1]},F\n", encoding="utf-8")
    with pytest.raises(ExportError, match="column GENDER appears 2 times"):
        convert(path)


def test_columns_the_profile_does_not_use_are_ignored(tmp_path: Path) -> None:
    row = {**make_row("mosaic"), "WORKER_TEAM": "North", "": ""}
    (record,) = convert(write_csv(tmp_path / "extra.csv", [row])).records
    assert record["incident"]["reference"] == "MOS-INC-0101"
