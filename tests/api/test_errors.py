"""Every error is RFC 9457 ``application/problem+json``, with field-level ``errors`` (§7)."""

from __future__ import annotations

import io
import json

import pytest

from adapter.api.bodies import MAX_JSON_BYTES
from tests.support.api import API, assert_problem, document_event, new_record, submit
from tests.support.service import Service


def test_an_invalid_record_names_each_bad_field(service: Service, la_key: str) -> None:
    record = new_record()
    record["children"][0]["sex"] = "unknowable"
    record["incident"]["setting"] = "moon"
    del record["incident"]["nature"]
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 422)
    fields = {error["field"]: error["message"] for error in problem["errors"]}
    assert set(fields) == {"children.0.sex", "incident.setting", "incident.nature"}
    assert "male, female, not_known" in fields["children.0.sex"]
    assert problem["type"].endswith("invalid-record")
    assert problem["instance"] == f"{API}/incidents"


def test_an_unknown_key_is_refused_by_name(service: Service, la_key: str) -> None:
    record = new_record()
    record["incident"]["refernce"] = "typo"
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 422)
    assert [e["field"] for e in problem["errors"]] == ["incident.refernce"]


def test_a_became_aware_on_in_the_future_is_422(service: Service, la_key: str) -> None:
    record = new_record(date="2099-01-01", became_aware_on="2099-01-02")
    record["children"][0]["date_of_death"] = "2099-01-01"
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 422)
    assert "incident.became_aware_on" in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize("body", [[], "a string", 42, [new_record()]])
def test_a_body_that_is_not_an_object_is_422(service: Service, la_key: str, body: object) -> None:
    problem = assert_problem(service.post(f"{API}/incidents", la_key, body), 422)
    assert problem["errors"][0]["field"] == "_schema"


@pytest.mark.parametrize("path", ["/incidents", "/plan", "/incidents/x/events"])
def test_a_body_that_is_not_json_is_415(service: Service, la_key: str, path: str) -> None:
    response = service.client.post(
        f"{API}{path}",
        data="reference=1",
        headers={**service.headers(la_key), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "application/json" in assert_problem(response, 415)["detail"]


def test_a_body_without_a_content_type_is_415(service: Service, la_key: str) -> None:
    response = service.client.post(f"{API}/incidents", data=b"{}", headers=service.headers(la_key))
    assert_problem(response, 415)


def test_a_body_over_the_json_limit_is_413(service: Service, la_key: str) -> None:
    body = b'{"x": "' + b"a" * MAX_JSON_BYTES + b'"}'
    response = service.client.post(
        f"{API}/incidents",
        data=body,
        headers={**service.headers(la_key), "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("body", [b"{", b'{"a": }', b"\xff\xfe", b"", b"NaN-ish"])
def test_malformed_json_is_400(service: Service, la_key: str, body: bytes) -> None:
    response = service.client.post(
        f"{API}/incidents",
        data=body,
        headers={**service.headers(la_key), "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


def test_no_key_is_401_with_www_authenticate(service: Service) -> None:
    response = service.client.post(f"{API}/incidents", json=new_record())
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer csins_000000000000_" + "x" * 43,
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer ",
    ],
)
def test_a_bad_key_is_401_with_www_authenticate(service: Service, authorization: str) -> None:
    response = service.client.get(f"{API}/deadlines", headers={"Authorization": authorization})
    assert_problem(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_revoked_key_is_401(service: Service, la_key: str) -> None:
    from adapter.store.api_keys import revoke_key

    with service.database.session_scope() as session:
        assert revoke_key(session, la_key.split("_")[1])
    response = service.get(f"{API}/deadlines", la_key)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert_problem(response, 401)


def test_an_unknown_path_is_a_404_problem(service: Service) -> None:
    assert_problem(service.client.get(f"{API}/nothing-here"), 404)


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(
    service: Service, la_key: str
) -> None:
    response = service.client.delete(f"{API}/incidents", headers=service.headers(la_key))
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_an_event_that_is_not_an_object_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.post(f"{API}/incidents/{incident_id}/events", la_key, ["rapid_review"])
    assert [e["field"] for e in assert_problem(response, 422)["errors"]] == ["_schema"]


def test_a_non_integer_limit_is_422_naming_the_field(service: Service, la_key: str) -> None:
    problem = assert_problem(service.get(f"{API}/deliveries", la_key, limit="ten"), 422)
    assert [e["field"] for e in problem["errors"]] == ["limit"]


# --- input the fuzz tests found making the service fail (each was a 500) ---------------------


def test_json_nested_too_deeply_is_400(service: Service, la_key: str) -> None:
    response = service.client.post(
        f"{API}/plan",
        data="[" * 100_000,
        headers={**service.headers(la_key), "Content-Type": "application/json"},
    )
    assert "deeply" in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("incident", "reference"), "REF\x00-1"),  # PostgreSQL text cannot hold U+0000
        (("local_authority", "name"), "North\x00East"),
        (("incident", "summary"), "half a pair \ud800"),  # cannot be encoded as UTF-8
    ],
)
def test_text_that_cannot_be_stored_is_422_naming_the_field(
    service: Service, la_key: str, path: tuple[str, str], value: str
) -> None:
    record = new_record()
    record[path[0]][path[1]] = value
    response = service.client.post(
        f"{API}/incidents",
        data=json.dumps(record),  # json.dumps escapes both as \\uXXXX
        headers={**service.headers(la_key), "Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == ".".join(path)
    assert service.get(f"{API}/deliveries", la_key).get_json()["items"] == []


def test_a_key_that_cannot_be_stored_is_422(service: Service, la_key: str) -> None:
    record = new_record()
    record["incident"]["x\x00"] = 1
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 422)
    assert problem["errors"][0]["field"] == "incident.x\N{REPLACEMENT CHARACTER}"


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/incidents/abc%00",
        f"{API}/deliveries?incident=a%00b",
        f"{API}/deliveries?status=%00",
        f"{API}/deadlines?addressee=%00",
        f"{API}/deadlines?x%00=1",
    ],
)
def test_a_nul_in_the_url_is_400(service: Service, la_key: str, url: str) -> None:
    assert_problem(service.client.get(url, headers=service.headers(la_key)), 400)


def test_a_nul_in_a_retry_id_is_400(service: Service) -> None:
    admin = service.key("admin", "*")
    assert_problem(service.post(f"{API}/deliveries/a%00b/retry", admin, None), 400)


def test_a_document_that_is_not_base64_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    event = document_event("rapid_review_completed")
    event["document"]["content_base64"] = "!!not base64!!"
    response = service.post(f"{API}/incidents/{incident_id}/events", la_key, event)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["document.content_base64"]


def test_a_body_sent_without_a_length_is_bounded_too(service: Service, la_key: str) -> None:
    body = b'{"x": "' + b"a" * MAX_JSON_BYTES + b'"}'
    response = service.client.post(
        f"{API}/plan",
        input_stream=io.BytesIO(body),
        headers={
            **service.headers(la_key),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("row", [1e308, 2**53, 10**30])
def test_a_source_row_beyond_canonical_json_is_422(service: Service, la_key: str, row) -> None:
    """RFC 8785 carries integers up to 2**53; a larger row number made hashing the record fail
    with a 500 (and a log line quoting the number)."""
    record = new_record()
    record["source"] = {"system": "liquidlogic", "file": "export.csv", "row": row}
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 422)
    assert [error["field"] for error in problem["errors"]] == ["source.row"]


def test_an_unexpected_error_is_logged_without_its_message(
    service: Service, la_key: str, caplog: pytest.LogCaptureFixture, monkeypatch
) -> None:
    """A library's error message may quote the input (a child's name): the 500's log line names
    the error's class and where it was raised, never its message."""
    from adapter.service import casework

    quoted = "Zebedee Quartermain"  # the frame's source line shows the code, not the value

    def fails(*args, **kwargs):
        raise ValueError(f"{quoted} is not what the library expected")

    monkeypatch.setattr(casework, "submit", fails)
    with caplog.at_level("DEBUG"):
        response = service.post(f"{API}/incidents", la_key, new_record())
    assert_problem(response, 500)
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    assert "ValueError" in logged and "fails" in logged  # the class and the frame
    assert "Zebedee" not in logged
