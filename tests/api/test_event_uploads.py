"""POST /incidents/{id}/events as multipart/form-data: the document as a file upload (§7).

"Events that produce a document ... carry it (a file upload or base64 content with its media
type); the deliveries they cause send exactly those bytes, and the receipt hashes them."
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest

from adapter.api.bodies import MAX_JSON_BYTES
from adapter.delivery.envelope import document_bytes
from schemas.events import MAX_DOCUMENT_BASE64
from tests.api.test_events import DECIDED, RAPID_REVIEW, sent_payload
from tests.support.api import API, assert_problem, post_event, submit
from tests.support.service import Service

DOCUMENT = b"%PDF-1.7\r\n\x00\xff\xfe binary, CRLF and NUL kept\n\r\n--not-a-boundary\r\n"
"""Bytes a text-minded parser would change: line endings, NUL, invalid UTF-8, a dash line."""

MAX_DOCUMENT_BYTES = MAX_DOCUMENT_BASE64 // 4 * 3
"""A file may be as large as the base64 content of a JSON event may carry."""

KINDS: dict[str, tuple[list[dict[str, Any]], dict[str, str]]] = {
    # event type: (the events before it, its fields besides type, on and document)
    "rapid_review_completed": ([], {}),
    "lcspr_decided": ([RAPID_REVIEW], {"decision": "local_review", "reviewer": "R. Reviewer"}),
    "publication_scheduled": (
        [RAPID_REVIEW, DECIDED],
        {"publication_date": "2027-03-01", "mode": "full_report"},
    ),
}


def post_form(
    service: Service, key: str, incident_id: str, data: dict[str, Any], **headers: str
) -> Any:
    """POST ``data`` as multipart/form-data (a ``(stream, filename, media type)`` is a file)."""
    return service.client.post(
        f"{API}/incidents/{incident_id}/events",
        data=data,
        content_type="multipart/form-data",
        headers=service.headers(key, **headers),
    )


def raw_form(service: Service, key: str, incident_id: str, parts: list[bytes]) -> Any:
    """POST multipart parts written by hand (``headers\\r\\n\\r\\nbody``): what the test client
    never sends (a file part without a Content-Type), and large bodies (which it spools to a
    temporary file it leaves open)."""
    boundary = b"b0undary"
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return service.client.post(
        f"{API}/incidents/{incident_id}/events",
        data=body + b"--" + boundary + b"--\r\n",
        content_type="multipart/form-data; boundary=b0undary",
        headers=service.headers(key),
    )


def field(name: str, value: str) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()


def file_part(name: str, filename: str, content: bytes, media_type: str | None) -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
    if media_type:
        head += f"Content-Type: {media_type}\r\n"
    return (head + "\r\n").encode() + content


def upload(content: bytes = DOCUMENT, media_type: str = "application/pdf") -> Any:
    return (io.BytesIO(content), "review.pdf", media_type)


def incident_at(service: Service, key: str, kind: str) -> str:
    """A new incident with the events ``kind`` needs before it recorded."""
    incident_id: str = submit(service, key)["id"]
    for earlier in KINDS[kind][0]:
        post_event(service, key, incident_id, earlier)
    return incident_id


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_document_sent_as_a_file_is_delivered_as_the_same_bytes_as_in_base64(
    service: Service, la_key: str, kind: str
) -> None:
    fields = {"type": kind, "on": "2026-11-26", **KINDS[kind][1]}
    as_json = {
        **fields,
        "document": {
            "media_type": "application/pdf",
            "filename": "review.pdf",
            "content_base64": base64.b64encode(DOCUMENT).decode("ascii"),
        },
    }
    by_json = post_event(service, la_key, incident_at(service, la_key, kind), as_json)
    response = post_form(
        service, la_key, incident_at(service, la_key, kind), {**fields, "document": upload()}
    )
    assert response.status_code == 201, response.get_json()
    by_form = response.get_json()

    assert by_form["type"] == kind
    assert [(d["document"], d["addressee"]) for d in by_form["deliveries"]] == [
        (d["document"], d["addressee"]) for d in by_json["deliveries"]
    ]
    assert by_form["deliveries"], "a document event causes deliveries"
    for sent_json, sent_form in zip(by_json["deliveries"], by_form["deliveries"], strict=True):
        json_payload = sent_payload(service, sent_json["id"])
        form_payload = sent_payload(service, sent_form["id"])
        assert form_payload == json_payload
        # What the envelope's payload_sha256 covers: the file's own bytes (§6).
        assert document_bytes(form_payload) == DOCUMENT

    service.work()
    compliance = service.key("compliance")
    listed = service.get(f"{API}/receipts", compliance, incident=by_form["incident_id"])
    receipts = {item["delivery_id"]: item["id"] for item in listed.get_json()["items"]}
    received = service.sandbox.state.stats()["addressees"]
    for delivery in by_form["deliveries"]:
        receipt = service.get(f"{API}/receipts/{receipts[delivery['id']]}", compliance)
        sent = received[delivery["addressee"]]["received"][delivery["id"]]
        assert receipt.get_json()["receipt"]["payload_sha256"] == sent["sha256"]


def test_a_form_event_without_a_document_is_recorded(service: Service, la_key: str) -> None:
    incident_id = incident_at(service, la_key, "lcspr_decided")
    fields = {"type": "panel_response_received", "on": "2026-11-26"}
    response = post_form(service, la_key, incident_id, fields)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["type"] == "panel_response_received"


def problem_fields(response: Any, status: int) -> list[str]:
    return [error["field"] for error in assert_problem(response, status).get("errors", [])]


def test_a_document_event_without_its_file_is_422_naming_document(
    service: Service, la_key: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    fields = {"type": "rapid_review_completed", "on": "2026-11-26"}
    assert problem_fields(post_form(service, la_key, incident_id, fields), 422) == ["document"]


def test_a_file_over_the_limit_is_413_naming_document(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    fields = [field("type", "rapid_review_completed"), field("on", "2026-11-26")]

    def sent(size: int) -> Any:
        document = file_part("document", "review.pdf", b"\0" * size, "application/pdf")
        return raw_form(service, la_key, incident_id, [*fields, document])

    assert problem_fields(sent(MAX_DOCUMENT_BYTES + 1), 413) == ["document"]
    assert "form body" in assert_problem(sent(MAX_JSON_BYTES), 413)["detail"]  # as JSON is
    # As much as a JSON event may carry in base64 goes in.
    response = sent(MAX_DOCUMENT_BYTES)
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"colour": "blue"}, "colour"),  # unknown to the event schema, as a JSON key would be
        ({"decision": "maybe"}, "decision"),
        ({"on": "26/11/2026"}, "on"),
        ({"file": "<a file>"}, "file"),  # the document goes in the part named 'document'
    ],
)
def test_a_wrong_form_field_is_422_naming_it(
    service: Service, la_key: str, extra: dict[str, Any], named: str
) -> None:
    incident_id = incident_at(service, la_key, "lcspr_decided")
    data = {
        "type": "lcspr_decided",
        "on": "2026-11-26",
        "decision": "no_review",
        "document": upload(),
        **{name: upload() if value == "<a file>" else value for name, value in extra.items()},
    }
    assert named in problem_fields(post_form(service, la_key, incident_id, data), 422)


def test_a_field_given_twice_is_422(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    data = {"type": "rapid_review_completed", "on": ["2026-11-25", "2026-11-26"]}
    response = post_form(service, la_key, incident_id, {**data, "document": upload()})
    assert problem_fields(response, 422) == ["on"]


@pytest.mark.parametrize(
    ("part", "message"),
    [
        (file_part("document", "review.pdf", DOCUMENT, None), "Content-Type"),
        (file_part("document", "review.pdf", b"", "application/pdf"), "empty"),
        (field("document", "JVBERi0xLjc="), "file part"),
    ],
)
def test_a_document_part_without_its_media_type_or_bytes_is_422(
    service: Service, la_key: str, part: bytes, message: str
) -> None:
    incident_id = submit(service, la_key)["id"]
    parts = [field("type", "rapid_review_completed"), field("on", "2026-11-26"), part]
    problem = assert_problem(raw_form(service, la_key, incident_id, parts), 422)
    assert [e["field"] for e in problem["errors"]] == ["document"]
    assert message in problem["errors"][0]["message"]


def test_a_form_without_a_boundary_is_400(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.client.post(
        f"{API}/incidents/{incident_id}/events",
        data=b"type=rapid_review_completed",
        content_type="multipart/form-data",
        headers=service.headers(la_key),
    )
    assert_problem(response, 400)


def test_another_media_type_is_415_naming_both_accepted(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    response = service.client.post(
        f"{API}/incidents/{incident_id}/events",
        data=b"type=rapid_review_completed",
        content_type="application/x-www-form-urlencoded",
        headers=service.headers(la_key),
    )
    detail = assert_problem(response, 415)["detail"]
    assert "application/json" in detail and "multipart/form-data" in detail


def test_the_openapi_document_describes_both_forms(service: Service) -> None:
    document = service.client.get("/api/openapi.json").get_json()
    operation = document["paths"]["/api/v1/incidents/{incident_id}/events"]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "multipart/form-data"}
    name = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    form = document["components"]["schemas"][name]
    assert form["properties"]["document"] == {
        **form["properties"]["document"],
        "type": "string",
        "format": "binary",
    }
    assert form["additionalProperties"] is False
