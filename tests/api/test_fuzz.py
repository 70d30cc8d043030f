"""Property-based fuzzing of the whole API from its OpenAPI document: no input makes it fail.

Schemathesis generates valid and invalid requests for every operation in /api/openapi.json and
sends them to the WSGI app in-process. Whatever the input, the answer is never a 5xx, and every
error is a problem-details document. Bounded and derandomised, so CI sees the same cases each run.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import tempfile
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.app import create_app
from adapter.store.crypto import format_key, new_key
from config.settings import load_settings
from schemas.events import REQUIRED_BY_TYPE
from tests.support.api import API, PROBLEM_JSON, new_record, submit
from tests.support.service import Service

MAX_EXAMPLES = 20
"""Generated cases per API operation (the coverage phase adds its own)."""

MUTATIONS = 80
"""Records near a valid one, each also sent with up to four events, and as an amendment."""


@pytest.fixture
def fuzz_target(service: Service) -> dict[str, Any]:
    """Keys, and a real incident and delivery, so that half the cases reach deep paths."""
    key = service.key("local_authority", "812")
    record = new_record()
    created = submit(service, key, record)
    return {
        "local_authority": key,
        "admin": service.key("admin", "*"),
        "incident_id": created["id"],
        "delivery_id": created["deliveries"][0]["id"],
        "record": record,
        "turn": itertools.count(),
        "app": service.app,
    }


def openapi_document() -> dict[str, Any]:
    """/api/openapi.json of an app that never touches a database (the document needs none).

    Loaded at import, because ``schemathesis.pytest.from_fixture`` does not run on pytest 9
    (it sets ``Item._nodeid``, which pytest 9 removed); cases are sent to the ``service`` app.
    """
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            "DATABASE_URL": "sqlite://",
            "CSINS_DATA_DIR": data_dir,
            "CSINS_ENCRYPTION_KEYS": format_key("spec", new_key()),
        }
        app = create_app(settings=load_settings(env=env))
        document: dict[str, Any] = app.test_client().get("/api/openapi.json").get_json()
        app.extensions["csins"].database.dispose()
    return document


schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_api_fail(case: Any, fuzz_target: dict[str, Any]) -> None:
    if next(fuzz_target["turn"]) % 2 == 0:
        for name in ("incident_id", "delivery_id"):
            if name in (case.path_parameters or {}):
                case.path_parameters[name] = fuzz_target[name]
        if isinstance(case.body, dict) and isinstance(case.body.get("local_authority"), dict):
            case.body["local_authority"]["code"] = "812"  # the key's LA, so it is not a 403
    admin_only = case.path.endswith("/retry") or "receipts" in case.path or case.path == "/metrics"
    role = "admin" if admin_only else "local_authority"
    response = case.call(
        app=fuzz_target["app"], headers={"Authorization": f"Bearer {fuzz_target[role]}"}
    )
    content_type = response.headers.get("content-type", [""])[0]
    if response.status_code >= 500 or (
        response.status_code >= 400 and not content_type.startswith(PROBLEM_JSON)
    ):
        pytest.fail(
            f"{response.status_code} for {case.as_curl_command()}:\n{response.content[:2000]!r}"
        )


# --- records and events a step away from valid ---------------------------------------------------
# Schemathesis's cases rarely get past validation into the rules, the planner and the store; these
# start from a valid record and change one to three values, so most reach the deeper layers.

_DATE_TEXT = st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat)
_NEAR_DATE_TEXT = st.dates(dt.date(2000, 1, 1), dt.date(2031, 12, 31)).map(dt.date.isoformat)
_ODD_TEXT = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\x00\ud800"),
    max_size=12,
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    _ODD_TEXT,
    _DATE_TEXT,
    _NEAR_DATE_TEXT,
    st.sampled_from(
        [
            "died",
            "seriously_harmed",
            "death",
            "serious_harm",
            "other",
            "known",
            "",
            "not_known_or_suspected",
            "local_review",
            "notify",
            "full_report",
            "25:00",
        ]
    ),
    st.lists(st.integers() | _ODD_TEXT, max_size=3),
    st.dictionaries(_ODD_TEXT, st.integers() | st.none(), max_size=2),
)


def leaf_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, dict):
        items: list[tuple[Any, Any]] = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return [prefix]
    paths = [prefix] if prefix else []
    for key, item in items:
        paths += leaf_paths(item, (*prefix, key))
    return paths


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` (deep-copied) with one to three values replaced or removed."""
    record = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(leaf_paths(record)))
        parent: Any = record
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_VALUES)
        if not leaf_paths(record):
            break
    return record


_AFTER_AWARE = st.sampled_from(["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26"])
"""Days between the records' ``became_aware_on`` and today, when these tests were written."""


_VALID_FIELDS: dict[str, Any] = {
    "outcome": "notify",
    "decision": "local_review",
    "reviewer": "R. Reviewer",
    "publication_date": "2027-03-01",
    "mode": "full_report",
    "reason": "a criminal trial",
    "url": "https://example.org/review",
    "publish": "improvements_only",
    "rationale": "the partners' reasons",
    "document": {"media_type": "application/pdf", "content_base64": "JVBERi0xLjc="},
}


@st.composite
def near_valid_event(draw: st.DrawFn) -> dict[str, Any]:
    """An event of any type with its required fields (and a document), sometimes mutated."""
    kind = draw(st.sampled_from(sorted(REQUIRED_BY_TYPE)))
    event: dict[str, Any] = {"type": kind, "on": draw(_AFTER_AWARE)}
    for name in (*REQUIRED_BY_TYPE[kind], "reviewer", "document"):
        event[name] = copy.deepcopy(_VALID_FIELDS[name])
    if draw(st.booleans()):
        return draw(mutated(event))
    return event


def assert_no_failure(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM_JSON


@given(data=st.data())
@settings(
    max_examples=MUTATIONS,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_record_or_event_near_a_valid_one_makes_the_api_fail(
    service: Service, fuzz_target: dict[str, Any], data: st.DataObject
) -> None:
    key, incident = fuzz_target["local_authority"], fuzz_target["incident_id"]
    record = data.draw(mutated(new_record()), label="record")
    events = data.draw(st.lists(near_valid_event(), max_size=4), label="events")
    assert_no_failure(service.post(f"{API}/plan", key, {**record, "events": events}))
    assert_no_failure(service.post(f"{API}/incidents", key, record))
    amendment = data.draw(mutated(fuzz_target["record"]), label="amendment")
    assert_no_failure(service.post(f"{API}/incidents/{incident}/amendments", key, amendment))
    for event in events:
        assert_no_failure(service.post(f"{API}/incidents/{incident}/events", key, event))
