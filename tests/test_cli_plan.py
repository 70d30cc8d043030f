"""``csins-adapter plan FILE.json`` (DESIGN.md §7): the JSON contract and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from adapter.cli import main
from tests.conftest import SAMPLES

CONTRACT_KEYS = [
    "notifiable",
    "blocked_reason",
    "classification",
    "rapid_review_required",
    "obligations",
    "warnings",
]
OBLIGATION_KEYS = {"document", "addressee", "due", "kind", "explanation"}


def invoke(path: Path) -> Result:
    return CliRunner().invoke(main, ["plan", str(path)])


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_plan_prints_the_contract_for_the_sample() -> None:
    result = invoke(SAMPLES / "incident.json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert list(body) == CONTRACT_KEYS
    assert body["notifiable"] is True
    assert body["blocked_reason"] is None
    assert body["classification"] == ["serious_incident"]
    assert body["rapid_review_required"] is True
    assert [(o["document"], o["addressee"], o["due"], o["kind"]) for o in body["obligations"]] == [
        ("incident_notification", "panel", "2026-11-30", "statutory"),
        ("rapid_review", "panel", "2026-12-14", "statutory"),
    ]
    assert all(set(o) >= OBLIGATION_KEYS for o in body["obligations"])


def test_plan_replays_the_events_in_the_file(tmp_path: Path, sample_record: dict[str, Any]) -> None:
    sample_record["events"] = [
        {"type": "rapid_review_completed", "on": "2026-12-10"},
        {
            "type": "lcspr_decided",
            "on": "2026-12-18",
            "decision": "local_review",
            "reviewer": "J. Reviewer",
        },
    ]
    result = invoke(write(tmp_path, sample_record))
    assert result.exit_code == 0, result.output
    documents = {o["document"] for o in json.loads(result.stdout)["obligations"]}
    assert {"panel_response", "lcspr_decision", "publication"} <= documents


def test_future_became_aware_is_a_warning_not_an_error(
    tmp_path: Path, sample_record: dict[str, Any]
) -> None:
    sample_record["incident"]["became_aware_on"] = "2030-06-03"
    result = invoke(write(tmp_path, sample_record))
    assert result.exit_code == 0, result.output
    assert "is in the future" in json.loads(result.stdout)["warnings"][0]


def test_invalid_record_prints_every_field_error_and_exits_1(
    tmp_path: Path, sample_record: dict[str, Any]
) -> None:
    sample_record["incident"]["nature"] = "accident"
    del sample_record["incident"]["reference"]
    sample_record["events"] = [{"type": "published", "on": "2027-01-01"}]
    result = invoke(write(tmp_path, sample_record))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith("incident.nature: 'accident' is not allowed") for line in lines)
    assert "incident.reference: Missing data for required field." in lines
    assert "events.0.url: required for a 'published' event" in lines
    assert result.stdout == ""


def test_a_refused_event_exits_1_with_the_reason(
    tmp_path: Path, sample_record: dict[str, Any]
) -> None:
    sample_record["events"] = [
        {"type": "published", "on": "2027-01-01", "url": "https://example.org/r"}
    ]
    result = invoke(write(tmp_path, sample_record))
    assert result.exit_code == 1
    assert result.stderr.startswith("events.0 (published on 2027-01-01) refused:")


def test_a_date_outside_the_known_years_exits_1(
    tmp_path: Path, sample_record: dict[str, Any]
) -> None:
    sample_record["incident"]["date"] = "2031-01-02"
    sample_record["incident"]["became_aware_on"] = "2031-01-02"
    sample_record["children"][0]["date_of_death"] = "2031-01-02"
    result = invoke(write(tmp_path, sample_record))
    assert result.exit_code == 1
    assert "2031-01-02 is outside the years whose bank holidays are known" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "nested too deeply"),
    ],
    ids=["not_json", "not_utf8", "deep_arrays", "deep_objects"],
)
def test_unreadable_file_exits_2(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    result = invoke(path)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert message in line


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = invoke(tmp_path / "absent.json")
    assert result.exit_code == 2
    assert "cannot be read" in result.stderr


def test_json_that_is_not_an_object_is_an_invalid_record(tmp_path: Path) -> None:
    result = invoke(write(tmp_path, [1, 2]))
    assert result.exit_code == 1
    assert "expected a JSON object" in result.stderr


def test_real_command_on_the_sample() -> None:
    command = Path(sys.executable).parent / "csins-adapter"
    done = subprocess.run(
        [str(command), "plan", str(SAMPLES / "incident.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["classification"] == ["serious_incident"]
