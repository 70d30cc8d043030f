"""GET /deadlines (filters, pagination) and POST /plan (the same JSON as ``csins-adapter plan``)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapter.cli.plan import plan as plan_command
from adapter.clock import london_today
from adapter.deadlines import load_plan_input, plan_incident
from tests.support.api import (
    API,
    LOCAL_REVIEW,
    assert_problem,
    document_event,
    new_record,
    submit,
)
from tests.support.service import Service


def all_deadlines(service: Service, key: str, **params: Any) -> list[dict[str, Any]]:
    response = service.get(f"{API}/deadlines", key, **params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next"] is None
    items: list[dict[str, Any]] = body["items"]
    return items


def test_deadlines_list_every_obligation_soonest_first(service: Service, la_key: str) -> None:
    first, second = submit(service, la_key)["id"], submit(service, la_key)["id"]
    items = all_deadlines(service, la_key)
    assert len(items) == 8  # four obligations each
    assert {item["incident_id"] for item in items} == {first, second}
    assert [item["due"] for item in items] == sorted(item["due"] for item in items)
    assert all(item["explanation"] and item["status"] for item in items)


def test_deadlines_filter_by_status(service: Service, la_key: str) -> None:
    submit(service, la_key)
    items = all_deadlines(service, la_key)
    statuses = {item["status"] for item in items}
    assert len(statuses) >= 1
    for status in statuses:
        filtered = all_deadlines(service, la_key, status=status)
        assert {item["id"] for item in filtered} == {
            item["id"] for item in items if item["status"] == status
        }
    absent = {"pending", "due_soon", "overdue", "met", "met_late"} - statuses
    for status in absent:
        assert all_deadlines(service, la_key, status=status) == []


@pytest.mark.parametrize("days_later", [0, 3, 10, 40])
def test_the_status_filter_is_the_status_each_item_shows_now(
    service: Service, la_key: str, monkeypatch: pytest.MonkeyPatch, days_later: int
) -> None:
    """§5: the list shows each deadline's status now; the filter must select by that status,
    not by the one the deadline job last stored (minutes old, or never updated without it)."""
    from adapter.api import deadlines as deadlines_api

    submit(service, la_key)
    service.work()  # some met, some still open
    later = deadlines_api.utcnow() + dt.timedelta(days=days_later)
    monkeypatch.setattr(deadlines_api, "utcnow", lambda: later)
    items = all_deadlines(service, la_key)
    for status in ("pending", "due_soon", "overdue", "met", "met_late"):
        filtered = all_deadlines(service, la_key, status=status)
        assert {item["id"] for item in filtered} == {
            item["id"] for item in items if item["status"] == status
        }, status


def test_deadlines_filter_by_addressee_document_and_incident(service: Service, la_key: str) -> None:
    first = submit(service, la_key)["id"]
    submit(service, la_key)
    panel = all_deadlines(service, la_key, addressee="panel")
    assert {(i["document"], i["addressee"]) for i in panel} == {
        ("incident_notification", "panel"),
        ("rapid_review", "panel"),
    }
    assert len(panel) == 4
    ofsted = all_deadlines(service, la_key, addressee="ofsted", incident=first)
    assert [(i["document"], i["incident_id"]) for i in ofsted] == [
        ("looked_after_child_death_notification", first)
    ]
    reviews = all_deadlines(service, la_key, document="rapid_review")
    assert len(reviews) == 2


def test_deadlines_paginate_with_a_next_cursor(service: Service, la_key: str) -> None:
    for _ in range(3):
        submit(service, la_key)
    everything = [item["id"] for item in all_deadlines(service, la_key)]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = service.get(f"{API}/deadlines", la_key, **params).get_json()
        assert len(body["items"]) <= 5
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next"]
        if cursor is None:
            break
    assert pages == 3  # 12 items, 5 a page
    assert seen == everything


def cursor_of(*parts: object) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


BAD_CURSORS = {
    "deadlines": [
        "garbage!",
        cursor_of(),
        cursor_of("deliveries", "2026-11-27", 1),
        cursor_of("deadlines", "not a date", 1),
        cursor_of("deadlines", "2026-11-27", 10**40),  # was a 500 on both backends
        cursor_of("deadlines", "2026-11-27", 2**40),  # was a 500 on PostgreSQL
        base64.urlsafe_b64encode(b"[" * 5000).decode(),  # was a 500: RecursionError
    ],
    "deliveries": [
        "%%%",
        cursor_of("deliveries", "2026-11-27T00:00:00", "x"),  # naive: was a 500
        cursor_of("deliveries", "0001-01-01T00:00:00+14:00", "x"),  # overflow: was a 500
        cursor_of("deliveries", "2026-11-27T00:00:00+00:00", "a\x00"),  # NUL: was a 500 (PG)
        cursor_of("deliveries", "2026-11-27T00:00:00+00:00", 7),
    ],
}


@pytest.mark.parametrize(
    ("path", "cursor"), [(path, c) for path, cursors in BAD_CURSORS.items() for c in cursors]
)
def test_a_bad_cursor_is_a_400_problem(
    service: Service, la_key: str, path: str, cursor: str
) -> None:
    submit(service, la_key)
    problem = assert_problem(service.get(f"{API}/{path}", la_key, cursor=cursor), 400)
    assert "cursor" in problem["detail"]


def test_a_cursor_of_the_deliveries_list_is_refused_by_deadlines(
    service: Service, la_key: str
) -> None:
    for _ in range(2):
        submit(service, la_key)
    cursor = service.get(f"{API}/deliveries", la_key, limit=1).get_json()["next"]
    assert cursor
    assert_problem(service.get(f"{API}/deadlines", la_key, cursor=cursor), 400)


def test_an_unknown_status_filter_is_422_naming_the_field(service: Service, la_key: str) -> None:
    problem = assert_problem(service.get(f"{API}/deadlines", la_key, status="late-ish"), 422)
    assert [e["field"] for e in problem["errors"]] == ["status"]


@pytest.mark.parametrize("limit", ["0", "-3", "100000"])
def test_out_of_range_limits_are_clamped(service: Service, la_key: str, limit: str) -> None:
    submit(service, la_key)
    response = service.get(f"{API}/deadlines", la_key, limit=limit)
    assert response.status_code == 200
    assert 1 <= len(response.get_json()["items"]) <= 200


# --- POST /plan ---------------------------------------------------------------------------------


def plan_body() -> dict[str, Any]:
    record = new_record()
    record["events"] = [
        document_event("rapid_review_completed", on="2026-11-24"),
        document_event("lcspr_decided", on="2026-11-25", **LOCAL_REVIEW),
    ]
    return record


def cli_plan(tmp_path: Path, body: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    result = CliRunner().invoke(plan_command, [str(path)])
    assert result.exit_code == 0, result.output
    printed: dict[str, Any] = json.loads(result.stdout)
    return printed


def test_plan_answers_what_the_cli_prints(service: Service, la_key: str, tmp_path: Path) -> None:
    body = plan_body()
    response = service.post(f"{API}/plan", la_key, body)
    assert response.status_code == 200
    assert response.get_json() == cli_plan(tmp_path, body)
    record, events = load_plan_input(body)
    expected = plan_incident(record, events, service.settings.policy, today=london_today())
    assert response.get_json() == json.loads(json.dumps(expected.to_json_dict()))


def test_plan_stores_and_sends_nothing(service: Service, la_key: str) -> None:
    assert service.post(f"{API}/plan", la_key, plan_body()).status_code == 200
    assert all_deadlines(service, la_key) == []
    assert service.get(f"{API}/deliveries", la_key).get_json()["items"] == []


def test_plan_warns_about_a_future_became_aware_on(service: Service, la_key: str) -> None:
    happened = london_today() + dt.timedelta(days=20)
    aware = (happened + dt.timedelta(days=3)).isoformat()
    body = new_record(became_aware_on=aware, date=happened.isoformat())
    body["children"][0]["date_of_death"] = happened.isoformat()
    response = service.post(f"{API}/plan", la_key, body)
    assert response.status_code == 200, response.get_json()
    assert any("future" in warning for warning in response.get_json()["warnings"])


def test_plan_of_an_invalid_record_is_422_with_event_paths(service: Service, la_key: str) -> None:
    body = plan_body()
    body["events"][1]["decision"] = "shrug"
    problem = assert_problem(service.post(f"{API}/plan", la_key, body), 422)
    assert [e["field"] for e in problem["errors"]] == ["events.1.decision"]


def test_plan_with_an_impossible_event_is_409(service: Service, la_key: str) -> None:
    body = new_record()
    body["events"] = [document_event("lcspr_decided", on="2026-11-25", **LOCAL_REVIEW)]
    assert_problem(service.post(f"{API}/plan", la_key, body), 409)


@pytest.mark.parametrize(("field", "value"), [("addressee", "ofstead"), ("document", "report")])
def test_a_deadline_filter_naming_no_possible_value_is_422(
    service: Service, la_key: str, field: str, value: str
) -> None:
    """A typo in a filter must not read as 'nothing is owed' (an empty list)."""
    problem = assert_problem(service.get(f"{API}/deadlines", la_key, **{field: value}), 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert "expected one of" in problem["errors"][0]["message"]


def test_the_deadline_addressees_are_those_the_rules_owe_to() -> None:
    from adapter.deadlines.obligations import _ADDRESSEE_ORDER
    from schemas import codes

    assert set(codes.DEADLINE_ADDRESSEES) == set(_ADDRESSEE_ORDER)
