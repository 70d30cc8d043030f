"""The smaller findings of the outside probe (issue 19 item 7), each through the API."""

from __future__ import annotations

import json

import pytest

from schemas.events import EventSchema, safe_filename
from tests.support.api import API, assert_problem, document_event, new_record
from tests.support.service import Service


@pytest.mark.parametrize("path", ["deliveries", "deadlines"])
def test_an_empty_cursor_is_the_first_page(service: Service, la_key: str, path: str) -> None:
    response = service.client.get(
        f"{API}/{path}", query_string={"cursor": ""}, headers=service.headers(la_key)
    )
    assert response.status_code == 200, response.get_json()


def test_an_empty_receipts_cursor_is_the_first_page(service: Service) -> None:
    key = service.key("compliance", "812")
    response = service.client.get(
        f"{API}/receipts", query_string={"cursor": ""}, headers=service.headers(key)
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("events", [{}, "", 0, False])
def test_plan_refuses_events_that_are_not_a_list(
    service: Service, la_key: str, events: object
) -> None:
    body = {**new_record(), "events": events}
    problem = assert_problem(service.post(f"{API}/plan", la_key, body), 422)
    assert "events" in json.dumps(problem)


def test_plan_takes_no_events_as_null_or_absent(service: Service, la_key: str) -> None:
    assert service.post(f"{API}/plan", la_key, {**new_record(), "events": None}).status_code == 200
    assert service.post(f"{API}/plan", la_key, new_record()).status_code == 200


def test_an_empty_nhs_number_is_not_known(service: Service, la_key: str) -> None:
    record = new_record()
    record["children"][0]["nhs_number"] = ""
    response = service.post(f"{API}/incidents", la_key, record)
    assert response.status_code == 201, response.get_json()
    stored = service.get(f"{API}/incidents/{response.get_json()['id']}", la_key).get_json()
    assert stored["record"]["children"][0]["nhs_number"] is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"schema_version": "1", "schema_version": "1"}',
        b'{"incident": {"reference": "A", "reference": "B"}}',
    ],
)
def test_duplicate_json_keys_are_a_400_problem(service: Service, la_key: str, body: bytes) -> None:
    response = service.client.post(
        f"{API}/incidents",
        data=body,
        headers={**service.headers(la_key), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 400)
    assert "repeats the key" in problem["detail"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\sw\\Rapid review.pdf", "Rapid review.pdf"),
        ("review\u202efdp.exe", "reviewfdp.exe"),
        ("..\u00a0.hidden\tname.pdf", "hidden name.pdf"),
        ("a" * 200 + ".pdf", "a" * 116 + ".pdf"),
        ("\u200b", None),
        (None, None),
    ],
)
def test_a_documents_filename_is_made_safe_where_it_enters(given: object, kept: object) -> None:
    assert safe_filename(given) == kept  # type: ignore[arg-type]
    event = document_event("rapid_review_completed")
    event["document"]["filename"] = given
    assert EventSchema().load(event)["document"]["filename"] == kept
    # An event read back from the store keeps the name it was stored with.
    assert EventSchema(stored=True).load(event)["document"]["filename"] == given
