"""Helpers for tests that drive the REST API: records with unique references, submitting them,
lifecycle events, and checks of problem details. Plain functions, imported where used.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.store.factories import make_event, make_record
from tests.support.service import Service

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
OTHER_LA = "813"
"""A second local authority, for the tenancy tests."""

_references = itertools.count(1)


def new_record(la: str = "812", **incident: Any) -> dict[str, Any]:
    """A valid record of LA ``la`` under a reference no other test uses.

    A looked-after child died, abuse suspected: a notification is owed to the Panel, and a
    looked-after child's death notification to the Secretary of State and Ofsted (§2).
    """
    return make_record(la=la, reference=f"REF-{la}-{next(_references):05d}", **incident)


def young_adult_record(la: str = "812") -> dict[str, Any]:
    """Historical harm of a person 18 or over on ``became_aware_on``: the Panel is consulted
    before anything is notified (§2)."""
    record = new_record(la, nature="serious_harm", historical_harm=True, date="2015-06-01")
    child = record["children"][0]
    child.update(
        date_of_birth="2005-01-01",
        outcome="seriously_harmed",
        date_of_death=None,
        looked_after=False,
    )
    return record


def document_event(kind: str, on: str = "2026-11-25", **fields: Any) -> dict[str, Any]:
    """A lifecycle event carrying a small document as base64."""
    return make_event(kind, on=on, document=f"%PDF-1.7 {kind}".encode(), **fields)


def plain_event(kind: str, on: str = "2026-11-25", **fields: Any) -> dict[str, Any]:
    """A lifecycle event without a document."""
    return make_event(kind, on=on, document=None, **fields)


LOCAL_REVIEW = {"decision": "local_review", "reviewer": "R. Reviewer"}


def submit(service: Service, key: str, record: dict[str, Any] | None = None, **headers: str) -> Any:
    """POST a record (a new one by default); asserts it was accepted and returns the body."""
    response = service.post(f"{API}/incidents", key, record or new_record(), **headers)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


def post_event(service: Service, key: str, incident_id: str, event: dict[str, Any]) -> Any:
    """POST an event; asserts it was recorded and returns the body."""
    response = service.post(f"{API}/incidents/{incident_id}/events", key, event)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem of ``status``; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"]
    assert body["type"]
    return body


def owed(obligations: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(document, addressee)`` of each obligation."""
    return {(item["document"], item["addressee"]) for item in obligations}
