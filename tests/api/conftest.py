"""Helpers for the REST API tests: records with unique references, and submitting them.

The ``service`` fixture (tests/support/service.py) runs every test against SQLite, and against
PostgreSQL as well when ``DATABASE_URL`` names a PostgreSQL server.
"""

from __future__ import annotations

import fcntl
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.store.factories import make_event, make_record
from tests.support import service as service_harness
from tests.support.service import Service

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
OTHER_LA = "813"
"""A second local authority, for the tenancy tests."""

REDIS_DATABASES = (14, 15, 6, 5)
"""Redis databases these tests may use, one per test process. The harness's shared one (db 13)
is flushed around every test of every suite, so suites run side by side (e2e, receipts, a second
run of these) would empty each other's queues."""

_references = itertools.count(1)


@pytest.fixture(scope="session")
def api_redis_url() -> Iterator[str]:
    """A Redis database of :data:`REDIS_DATABASES` that no other test process holds.

    Each is claimed with an exclusive ``flock`` on a file named after it, for the whole session;
    when every one is taken, the session waits for the first.
    """
    for number, wait in [(n, False) for n in REDIS_DATABASES] + [(REDIS_DATABASES[0], True)]:
        lock = Path(tempfile.gettempdir()) / f"csins-api-tests-redis-{number}.lock"
        with lock.open("w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                continue
            yield f"redis://127.0.0.1:6379/{number}"
            return


@pytest.fixture(autouse=True)
def _own_redis_database(monkeypatch: pytest.MonkeyPatch, api_redis_url: str) -> None:
    """Point the harness's ``service`` fixture at this process's Redis database (autouse
    fixtures are set up before the ``service`` fixture reads it)."""
    monkeypatch.setattr(service_harness, "REDIS_TEST_URL", api_redis_url)


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


@pytest.fixture
def la_key(service: Service) -> str:
    """A ``local_authority`` key of LA 812."""
    return service.key("local_authority", "812")
