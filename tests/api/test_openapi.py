"""/api/openapi.json says what the API really takes and answers (DESIGN.md §7).

A request the API accepts validates against its published request schema, and every error an
endpoint gives is documented for it as an ``application/problem+json`` problem.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import pytest

from adapter.api.bodies import MAX_JSON_BYTES
from tests.support.api import (
    API,
    OTHER_LA,
    PROBLEM_JSON,
    assert_problem,
    document_event,
    new_record,
    plain_event,
    submit,
)
from tests.support.service import Service


def openapi(service: Service) -> dict[str, Any]:
    document: dict[str, Any] = service.client.get("/api/openapi.json").get_json()
    return document


def json_schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.0 schema as JSON Schema 2020-12 (``nullable`` as a ``null`` type), with
    the document's component schemas as ``$defs``."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {
            key: ("#/$defs/" + value.rsplit("/", 1)[-1] if key == "$ref" else convert(value))
            for key, value in node.items()
            if key != "nullable"
        }
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out

    defs = {name: convert(item) for name, item in document["components"]["schemas"].items()}
    return {**convert(schema), "$defs": defs}


def plan_request_schema(service: Service) -> dict[str, Any]:
    document = openapi(service)
    body = document["paths"][f"{API}/plan"]["post"]["requestBody"]
    return json_schema(document, body["content"]["application/json"]["schema"])


def test_a_plan_request_with_events_validates_against_the_published_schema(
    service: Service, la_key: str
) -> None:
    """DESIGN.md §7: "The record may carry an `events` list, the same events the API takes"."""
    body = {
        **new_record(),
        "events": [
            document_event("rapid_review_completed", on="2026-11-24"),
            plain_event("lcspr_decided", on="2026-11-25", decision="no_review"),
        ],
    }
    validator = jsonschema_rs.validator_for(plan_request_schema(service))
    assert [error.message for error in validator.iter_errors(body)] == []
    assert service.post(f"{API}/plan", la_key, body).status_code == 200


def test_the_plan_request_schema_still_refuses_unknown_keys(service: Service) -> None:
    validator = jsonschema_rs.validator_for(plan_request_schema(service))
    assert not validator.is_valid({**new_record(), "evnets": []})
    assert not validator.is_valid({**new_record(), "events": [{"type": "party", "on": "x"}]})


# --- every error is documented --------------------------------------------------------------


@dataclass
class World:
    """Keys of each role, and an incident with queued deliveries, for the cases below."""

    service: Service
    keys: dict[str, str]
    incident: str
    record: dict[str, Any]
    delivery: str

    def send(self, method: str, path: str, role: str | None = "local_authority", **kw: Any) -> Any:
        """``method path`` (``{incident}`` and ``{delivery}`` filled in) with a key of ``role``."""
        headers = dict(kw.pop("headers", {}))
        if role is not None:
            headers["Authorization"] = f"Bearer {self.keys[role]}"
        url = path.format(incident=self.incident, delivery=self.delivery)
        return self.service.client.open(url, method=method, headers=headers, **kw)


@pytest.fixture
def world(service: Service, la_key: str) -> World:
    record = new_record()
    created = submit(service, la_key, record)
    keys = {role: service.key(role) for role in ("agency", "admin", "compliance")}
    keys["local_authority"] = la_key
    return World(service, keys, created["id"], record, created["deliveries"][0]["id"])


def _export() -> dict[str, Any]:
    """An upload that is no export: a fresh stream each time it is sent."""
    return {"file": (io.BytesIO(b"not,an\nexport,at all\n"), "export.csv")}


def _changed(record: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    changed["incident"]["summary"] = "different content, same reference"
    return changed


_TOO_LARGE: dict[str, Any] = {
    "data": b'{"x": "' + b"a" * MAX_JSON_BYTES + b'"}',
    "content_type": "application/json",
}
_TEXT: dict[str, Any] = {"data": b"x", "content_type": "text/plain"}
_MALFORMED: dict[str, Any] = {"data": b"{", "content_type": "application/json"}
_INVALID: dict[str, Any] = {"json": {"schema_version": "1"}}

INCIDENTS, INCIDENT = f"{API}/incidents", f"{API}/incidents/{{incident}}"
AMENDMENTS, EVENTS = f"{INCIDENT}/amendments", f"{INCIDENT}/events"
IMPORTS, DEADLINES, PLAN = f"{API}/imports", f"{API}/deadlines", f"{API}/plan"
DELIVERIES, RETRY = f"{API}/deliveries", f"{API}/deliveries/{{delivery}}/retry"
RECEIPTS, RECEIPTS_ZIP = f"{API}/receipts", f"{INCIDENT}/receipts.zip"
EVENT = document_event("rapid_review_completed")


def case(
    method: str,
    path: str,
    status: int,
    role: str | None = "local_authority",
    at: str | None = None,
    **request: Any,
) -> Any:
    """``method`` on the operation at ``path`` (sent to ``at`` when given) with a key of
    ``role`` answers ``status``. A callable request value is called with the world."""

    def send(world: World) -> Any:
        sent = {name: value(world) if callable(value) else value for name, value in request.items()}
        return world.send(method, at or path, role, **sent)

    operation = path.replace("{incident}", "{incident_id}").replace("{delivery}", "{delivery_id}")
    return pytest.param(method.lower(), operation, status, send, id=f"{method} {path} {status}")


CASES = [
    case("POST", INCIDENTS, 400, **_MALFORMED),
    case("POST", INCIDENTS, 400, json=new_record(), headers={"Idempotency-Key": "x" * 300}),
    case("POST", INCIDENTS, 401, None, json=new_record()),
    case("POST", INCIDENTS, 403, "admin", json=new_record()),
    case("POST", INCIDENTS, 403, json=new_record(OTHER_LA)),
    case("POST", INCIDENTS, 409, json=lambda w: _changed(w.record)),
    case("POST", INCIDENTS, 413, **_TOO_LARGE),
    case("POST", INCIDENTS, 415, **_TEXT),
    case("POST", INCIDENTS, 422, **_INVALID),
    case("GET", INCIDENT, 401, None),
    case("GET", INCIDENT, 403, "agency"),
    case("GET", INCIDENT, 404, at=f"{INCIDENTS}/nope"),
    case("POST", AMENDMENTS, 403, "admin", json=lambda w: w.record),
    case("POST", AMENDMENTS, 404, at=f"{INCIDENTS}/nope/amendments", json=lambda w: w.record),
    case("POST", AMENDMENTS, 415, **_TEXT),
    case("POST", AMENDMENTS, 422, **_INVALID),
    case("POST", EVENTS, 400, **_MALFORMED),
    case("POST", EVENTS, 403, "admin", json=EVENT),
    case("POST", EVENTS, 404, at=f"{INCIDENTS}/nope/events", json=EVENT),
    case("POST", EVENTS, 409, json=plain_event("panel_response_received")),
    case("POST", EVENTS, 413, **_TOO_LARGE),
    case("POST", EVENTS, 415, **_TEXT),
    case("POST", EVENTS, 422, json=plain_event("rapid_review_completed")),
    case("POST", IMPORTS, 400, data={}, content_type="multipart/form-data"),
    case("POST", IMPORTS, 403, "admin"),
    case("POST", IMPORTS, 422, data=lambda w: _export(), content_type="multipart/form-data"),
    case("GET", f"{IMPORTS}/{{import_id}}", 404, at=f"{IMPORTS}/nope"),
    case("GET", DEADLINES, 400, at=f"{DEADLINES}?cursor=garbage"),
    case("GET", DEADLINES, 403, "agency"),
    case("GET", DEADLINES, 422, at=f"{DEADLINES}?status=late-ish"),
    case("POST", PLAN, 400, **_MALFORMED),
    case("POST", PLAN, 401, None, json=new_record()),
    case("POST", PLAN, 415, **_TEXT),
    case("POST", PLAN, 422, **_INVALID),
    case("GET", DELIVERIES, 400, at=f"{DELIVERIES}?cursor=garbage"),
    case("GET", DELIVERIES, 403, "agency"),
    case("GET", DELIVERIES, 422, at=f"{DELIVERIES}?status=bogus"),
    case("POST", RETRY, 403),
    case("POST", RETRY, 404, "admin", at=f"{DELIVERIES}/nope/retry"),
    case("POST", RETRY, 409, "admin"),  # queued, not failed
    case("GET", RECEIPTS, 400, "compliance", at=f"{RECEIPTS}?cursor=garbage"),
    case("GET", RECEIPTS, 403),
    case("GET", RECEIPTS, 422, "compliance", at=f"{RECEIPTS}?from=soon"),
    case("GET", f"{RECEIPTS}/{{receipt_id}}", 404, "compliance", at=f"{RECEIPTS}/nope"),
    case("GET", RECEIPTS_ZIP, 404, "compliance", at=f"{INCIDENTS}/nope/receipts.zip"),
    case("GET", "/metrics", 403),
]


@pytest.mark.parametrize(("method", "path", "status", "send"), CASES)
def test_each_error_an_endpoint_gives_is_documented_as_a_problem(
    world: World, method: str, path: str, status: int, send: Callable[[World], Any]
) -> None:
    assert_problem(send(world), status)
    document = openapi(world.service)
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{status} is not documented; documented: {sorted(responses)}"
    response = responses[str(status)]
    if "$ref" in response:
        response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    assert response["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}
    }


def test_every_documented_error_is_a_problem(service: Service) -> None:
    document = openapi(service)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            for status, response in operation["responses"].items():
                if "$ref" in response or not status.startswith("4"):
                    continue
                assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
