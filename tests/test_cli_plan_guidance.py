"""The cases of issue 14 ("the guidance, second reading") through ``csins-adapter plan``.

DESIGN.md §4 "Ages decide different things in different rows", "Which LA owes it" and "Cases
raised by partner agencies": what a new user tried, and what the guidance says it gives.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import time_machine
from click.testing import CliRunner

from adapter.cli import main
from adapter.clock import LONDON
from tests.rules.factories import make_child, make_record
from tests.rules.test_ages_and_who_owes import (
    abused_at_7_suicide_at_19,
    died_at_3_in_2007,
    harmed_at_17_died_at_18,
)

TODAY = dt.datetime(2026, 12, 7, 12, 0, tzinfo=LONDON)


def plan(tmp_path: Path, record: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "incident.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    with time_machine.travel(TODAY, tick=False):
        result = CliRunner().invoke(main, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def owed(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(o["document"], o["addressee"]) for o in body["obligations"]}


PANEL = {("incident_notification", "panel"), ("rapid_review", "panel")}


def test_s2_harmed_at_17_aware_at_17_died_at_18_notify_the_panel(tmp_path: Path) -> None:
    body = plan(tmp_path, harmed_at_17_died_at_18())
    assert body["notifiable"] is True
    assert body["classification"] == ["serious_incident"]
    assert body["rapid_review_required"] is True
    assert owed(body) == PANEL


def test_s2_died_at_3_in_2007_is_a_childs_death_with_an_old_incident_warning(
    tmp_path: Path,
) -> None:
    body = plan(tmp_path, died_at_3_in_2007())
    assert body["notifiable"] is True
    assert body["blocked_reason"] is None
    assert body["classification"] == ["serious_incident"]
    assert owed(body) == PANEL
    assert any("more than a year before became_aware_on" in w for w in body["warnings"])


def test_s2_abused_at_7_died_at_19_aware_next_day_consult_the_panel(tmp_path: Path) -> None:
    body = plan(tmp_path, abused_at_7_suicide_at_19())
    assert body["notifiable"] is False
    assert body["blocked_reason"] == "panel_consultation_required"
    assert body["classification"] == ["young_adult_historical_harm"]
    assert body["obligations"] == []
    # An old incident is warned of, without calling this one notifiable (it is not).
    (old,) = [w for w in body["warnings"] if w.startswith("incident.date")]
    assert "notifiable" not in old and "historical harm (§2)" in old


def test_s2_incident_in_another_english_las_area_owes_nothing_here(tmp_path: Path) -> None:
    record = make_record(make_child(), location={"in_la_area": False})
    body = plan(tmp_path, record)
    assert body["notifiable"] is False
    assert body["blocked_reason"] == "another_la_notifies"
    assert body["rapid_review_required"] is False
    assert body["obligations"] == []
    assert any("another local authority's area" in w for w in body["warnings"])


def test_s3_an_agencys_referral_owes_a_decision_and_a_local_rapid_review(tmp_path: Path) -> None:
    record = make_record(make_child())
    record["referral"] = {"received_on": "2026-11-24", "agency": "Humberside Police"}
    body = plan(tmp_path, record)
    assert body["notifiable"] is False
    assert [(o["document"], o["addressee"], o["due"], o["kind"]) for o in body["obligations"]] == [
        ("referral_decision", "safeguarding_partners", "2026-12-01", "local"),
        ("rapid_review", "safeguarding_partners", "2026-12-15", "local"),
    ]
    assert any("Humberside Police" in w for w in body["warnings"])

    record["events"] = [
        {"type": "referral_decided", "on": "2026-11-26", "decision": "notify", "rationale": "§1"}
    ]
    notified = plan(tmp_path, record)
    assert notified["notifiable"] is True
    assert owed(notified) >= PANEL
