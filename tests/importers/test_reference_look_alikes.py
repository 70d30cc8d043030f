"""An export's look-alike references are one incident; an invisible character is a row problem
naming its code point (§3.1, §4; issue 19 item 1)."""

from __future__ import annotations

from pathlib import Path

from tests.importers.conftest import convert, make_row, write_csv


def _row(reference: str, person: str) -> dict[str, str]:
    return make_row("liquidlogic", INCIDENT_REF=reference, DIM_PERSON_ID=person)


def test_rows_with_look_alike_references_are_one_incident(tmp_path: Path) -> None:
    rows = [_row("REF-1", "P1"), _row("REF\u20101", "P2"), _row("\uff32\uff25\uff26-1", "P3")]
    outcome = convert(write_csv(tmp_path / "alike.csv", rows))
    assert outcome.problems == []
    (record,) = outcome.records
    assert record["incident"]["reference"] == "REF-1"
    assert len(record["children"]) == 3


def test_a_reference_with_a_bidi_override_is_a_row_problem(tmp_path: Path) -> None:
    rows = [_row("REF-1", "P1"), _row("\u202eREF-2", "P2")]
    outcome = convert(write_csv(tmp_path / "bidi.csv", rows))
    assert [r["incident"]["reference"] for r in outcome.records] == ["REF-1"]
    (problem,) = outcome.problem_at(3)
    assert problem.field == "INCIDENT_REF"
    assert "U+202E" in problem.message
