"""Consistency rules across a child's dates and age (DESIGN.md §3, §4), table by table.

Each table pairs a change to the sample record (incident on 2026-11-20, child born 2015-03-02,
died 2026-11-20) with the field it must be refused at and what the message must say; the tables of
records that stay valid guard that no legitimate record is lost.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from schemas import consistency
from schemas.incident import IncidentRecordSchema
from tests.schemas.test_incident import TODAY, load, problems

HARMED = {"outcome": "seriously_harmed", "date_of_death": None}
"""The sample child, seriously harmed rather than dead (the incident's nature follows)."""


def with_child(record: dict[str, Any], **child: Any) -> dict[str, Any]:
    """The record with the first child's fields replaced (and the nature kept consistent)."""
    out = copy.deepcopy(record)
    out["children"][0].update(child)
    if out["children"][0]["outcome"] == "seriously_harmed":
        out["incident"]["nature"] = "serious_harm"
    return out


# §1-§2, DESIGN.md §3: no date of a fact notified may be after today when submitted or converted.

FUTURE_DATES = [
    pytest.param(
        {"date_of_death": "2026-11-28"},
        "children.0.date_of_death",
        ["2026-11-28 is in the future", "today is 2026-11-27", "expected the date the child died"],
        id="s2-date-of-death-tomorrow",
    ),
    pytest.param(
        {**HARMED, "date_of_birth": "2026-12-01", "unborn": False},
        "children.0.date_of_birth",
        ["2026-12-01 is in the future", "today is 2026-11-27", "unborn: true"],
        id="s2-born-child-with-a-future-birth-date",
    ),
    pytest.param(
        {**HARMED, "date_of_birth": "2027-02-01", "unborn": None},
        "children.0.date_of_birth",
        ["2027-02-01 is in the future", "expected a date on or before today"],
        id="s2-future-birth-date-unborn-not-said",
    ),
]


@pytest.mark.parametrize(("child", "path", "says"), FUTURE_DATES)
def test_future_dates_are_refused_when_submitted_or_converted(sample_record, child, path, says):
    found = problems(with_child(sample_record, **child), today=TODAY)
    assert list(found) == [path]
    assert all(part in found[path] for part in says), found[path]


@pytest.mark.parametrize(("child", "path", "says"), FUTURE_DATES)
def test_future_dates_are_not_errors_in_plan(sample_record, child, path, says):
    """`plan` asks what-if questions about future dates: it only warns (DESIGN.md §3)."""
    load(with_child(sample_record, **child), today=None)


@pytest.mark.parametrize(("child", "path", "says"), FUTURE_DATES)
def test_future_dates_are_what_callers_filter_by_in_the_future(sample_record, child, path, says):
    """Submission loads without ``today`` and then keeps the problems that say "in the future"
    (as for became_aware_on); :func:`consistency.future_dates` lists exactly those."""
    loaded = IncidentRecordSchema(today=None).load(with_child(sample_record, **child))
    future = [p for p in consistency.check_record(loaded, TODAY) if "in the future" in p[1]]
    assert [p for p, _ in future] == [path]
    assert consistency.future_dates(loaded, TODAY) == future


def test_a_date_of_death_today_is_accepted(sample_record):
    record = with_child(sample_record, date_of_death=TODAY.isoformat())
    record["incident"]["date"] = record["incident"]["became_aware_on"] = TODAY.isoformat()
    load(record, today=TODAY)


def test_an_unborn_child_with_a_future_birth_date_is_refused_once(sample_record):
    """An unborn child with a future birth date is refused once, by the unborn rule."""
    found = problems(with_child(sample_record, **HARMED, date_of_birth="2027-01-01", unborn=True))
    assert found == {
        "children.0.date_of_birth": "an unborn child has no date of birth (leave it empty)"
    }


# Dates that look out of order but happen: these records must load, in every mode.

STILL_VALID = [
    pytest.param(
        {**HARMED, "date_of_birth": "2026-11-25", "unborn": False},
        id="s1-harmed-in-utero-born-after-the-incident",
    ),
    pytest.param(
        {**HARMED, "date_of_birth": "2026-11-25", "unborn": None, "age_years": 0},
        id="s1-harmed-in-utero-age-0",
    ),
    pytest.param(
        {"date_of_death": "2026-11-18"},
        id="s2-death-dated-before-the-incident-date-it-was-found-on",
    ),
]


@pytest.mark.parametrize("child", STILL_VALID)
@pytest.mark.parametrize("today", [TODAY, None], ids=["submitted", "plan"])
def test_dates_that_happen_are_kept(sample_record, child, today):
    loaded = load(with_child(sample_record, **child), today=today)
    expected = {k: dt.date.fromisoformat(v) if "date" in k and v else v for k, v in child.items()}
    assert {k: loaded["children"][0][k] for k in child} == expected


def test_date_of_death_before_birth_is_still_refused(sample_record):
    found = problems(with_child(sample_record, date_of_death="2015-03-01"))
    assert found["children.0.date_of_death"] == (
        "2015-03-01 is before the date of birth 2015-03-02"
    )


# DESIGN.md §4: the age is taken from date_of_birth first, so an age_years beside it must agree.

AGE_DISAGREES = [
    pytest.param(
        {"age_years": 7},
        ["7 disagrees with the date of birth 2015-03-02", "expected 11 (on the incident date"],
        id="s4-younger",
    ),
    pytest.param(
        {"age_years": 12},
        ["12 disagrees", "expected 11 (on the incident date 2026-11-20)"],
        id="s4-a-year-older",
    ),
    pytest.param(
        {"age_years": 12, "date_of_birth": "2015-11-25", "date_of_death": "2027-01-10"},
        [
            "12 disagrees",
            "expected 10 (on the incident date 2026-11-20) or 11 (on the date of death 2027-01-10)",
        ],
        id="s4-neither-at-incident-nor-at-death",
    ),
    pytest.param(
        {**HARMED, "identity_known": False, "age_years": 3, "date_of_birth": "2015-03-02"},
        ["3 disagrees", "expected 11"],
        id="s2-identity-not-known-too",
    ),
]


@pytest.mark.parametrize(("child", "says"), AGE_DISAGREES)
def test_s4_age_years_must_agree_with_the_date_of_birth(sample_record, child, says):
    found = problems(with_child(sample_record, **child), today=dt.date(2027, 2, 1))
    assert list(found) == ["children.0.age_years"]
    assert all(part in found["children.0.age_years"] for part in says), found


AGE_AGREES = [
    pytest.param({"age_years": 11}, id="s4-same-age"),
    pytest.param(
        {"age_years": 10, "date_of_birth": "2015-11-25", "date_of_death": "2026-11-26"},
        id="s4-age-on-the-incident-date-birthday-before-death",
    ),
    pytest.param(
        {"age_years": 11, "date_of_birth": "2015-11-25", "date_of_death": "2026-11-26"},
        id="s4-age-at-death",
    ),
    pytest.param(
        {"age_years": 7, "date_of_birth_estimated": True},
        id="s4-estimated-birth-date-may-differ",
    ),
    pytest.param({"age_years": 11, "date_of_birth": None}, id="s4-age-alone"),
]


@pytest.mark.parametrize("child", AGE_AGREES)
def test_s4_age_years_that_agrees_or_cannot_be_checked_is_kept(sample_record, child):
    loaded = load(with_child(sample_record, **child))
    assert loaded["children"][0]["age_years"] == child["age_years"]


@pytest.mark.parametrize("age", [10, 21], ids=["s4-age-when-harmed", "s4-age-when-known"])
def test_s4_historical_harm_age_may_be_the_age_when_the_la_became_aware(sample_record, age):
    """DESIGN.md §4: for historical harm the age that decides is the age on became_aware_on,
    so an age_years given as that age agrees with the date of birth too."""
    record = with_child(sample_record, **HARMED, date_of_birth="2005-01-01", age_years=age)
    record["incident"].update(historical_harm=True, date="2015-06-01", became_aware_on="2026-11-20")
    assert load(record)["children"][0]["age_years"] == age
