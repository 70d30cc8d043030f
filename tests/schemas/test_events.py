"""Lifecycle events (DESIGN.md §7): each type's required fields and code lists."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from schemas import codes
from schemas.events import REQUIRED_BY_TYPE, EventSchema, carries_document
from schemas.fields import flatten

VALID: dict[str, dict[str, Any]] = {
    "rapid_review_completed": {},
    "panel_consulted": {"outcome": "notify"},
    "lcspr_decided": {"decision": "local_review", "reviewer": "J. Reviewer"},
    "publication_scheduled": {"publication_date": "2027-06-01", "mode": "full_report"},
    "publication_delayed": {"reason": "criminal trial listed for 2027"},
    "published": {"url": "https://example.gov.uk/lcspr.pdf"},
    "panel_response_received": {},
    "panel_information_requested": {"due": "2026-12-15"},
    "further_information_sent": {},
    "publication_decided": {"publish": "improvements_only"},
    "publication_withdrawn": {},
    "family_informed": {},
    "referral_decided": {"decision": "notify", "rationale": "meets §1: abuse suspected"},
}


def test_every_event_type_has_an_example():
    assert set(VALID) == set(codes.EVENT_TYPES) == set(REQUIRED_BY_TYPE)


@pytest.mark.parametrize("kind", codes.EVENT_TYPES)
def test_each_event_type_loads(kind):
    loaded = EventSchema().load({"type": kind, "on": "2026-12-01", **VALID[kind]})
    assert loaded["type"] == kind


@pytest.mark.parametrize(
    ("kind", "field"), [(k, f) for k, fs in REQUIRED_BY_TYPE.items() for f in fs]
)
def test_each_type_requires_its_fields(kind, field):
    body = {"type": kind, "on": "2026-12-01", **VALID[kind]}
    del body[field]
    with pytest.raises(ValidationError) as caught:
        EventSchema().load(body)
    assert dict(flatten(caught.value.messages))[field] == f"required for a '{kind}' event"


def test_s3_local_review_decision_names_the_reviewer():
    with pytest.raises(ValidationError) as caught:
        EventSchema().load(
            {"type": "lcspr_decided", "on": "2026-12-01", "decision": "local_review"}
        )
    assert "reviewer" in dict(flatten(caught.value.messages))


@pytest.mark.parametrize(
    ("reviewer", "says"),
    [
        (None, "required when a local review is decided (§3, §4): expected the name"),
        ("", "('' is blank)"),
        (" ", "(' ' is blank)"),
        ("\t \n", "is blank"),
    ],
    ids=["null", "empty", "space", "whitespace"],
)
def test_s3_s4_a_blank_reviewer_is_no_reviewer(reviewer, says):
    """§3, §4: the Panel, Ofsted and DfE are told "the name of any reviewer": spaces name none."""
    with pytest.raises(ValidationError) as caught:
        EventSchema().load(
            {
                "type": "lcspr_decided",
                "on": "2026-12-01",
                "decision": "local_review",
                "reviewer": reviewer,
            }
        )
    found = dict(flatten(caught.value.messages))
    assert list(found) == ["reviewer"]
    assert says in found["reviewer"]
    assert "expected the name of the reviewer commissioned" in found["reviewer"]


@pytest.mark.parametrize("decision", ["no_review", "national_review_recommended"])
def test_s4_other_decisions_need_no_reviewer(decision):
    body = {"type": "lcspr_decided", "on": "2026-12-01", "decision": decision, "reviewer": " "}
    assert EventSchema().load(body)["reviewer"] == " "


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("outcome", codes.PANEL_CONSULTATION_OUTCOMES),
        ("decision", codes.LCSPR_DECISIONS),
        ("mode", codes.PUBLICATION_MODES),
    ],
)
def test_event_code_lists(field, values):
    with pytest.raises(ValidationError) as caught:
        EventSchema().load({"type": "rapid_review_completed", "on": "2026-12-01", field: "bogus"})
    message = dict(flatten(caught.value.messages))[field]
    assert all(value in message for value in values)


def test_unknown_event_type_and_keys_are_refused():
    with pytest.raises(ValidationError) as caught:
        EventSchema().load({"type": "tea_break", "on": "2026-12-01", "biscuits": 2})
    found = dict(flatten(caught.value.messages))
    assert "rapid_review_completed" in found["type"]
    assert found["biscuits"] == "Unknown field."


def test_document_needs_media_type_and_content():
    with pytest.raises(ValidationError) as caught:
        EventSchema().load(
            {
                "type": "rapid_review_completed",
                "on": "2026-12-01",
                "document": {"media_type": "not a type"},
            }
        )
    found = dict(flatten(caught.value.messages))
    assert set(found) == {"document.media_type", "document.content_base64"}


@pytest.mark.parametrize(
    ("kind", "decision", "allowed"),
    [
        ("lcspr_decided", "notify", "local_review, no_review, national_review_recommended"),
        ("referral_decided", "local_review", "notify, do_not_notify"),
    ],
)
def test_s3_s4_a_decision_belongs_to_its_event_type(kind, decision, allowed):
    body = {"type": kind, "on": "2026-12-01", "decision": decision, "rationale": "r"}
    with pytest.raises(ValidationError) as caught:
        EventSchema(stored=True).load({**body, "reviewer": "J. Reviewer"})
    message = dict(flatten(caught.value.messages))["decision"]
    assert message == (
        f"'{decision}' is not a decision of a '{kind}' event: expected one of {allowed}"
    )


@pytest.mark.parametrize(
    ("publish", "carries"),
    [("full_report", False), ("improvements_only", True), ("none", True)],
)
def test_s8_a_publication_decision_carries_its_justification_unless_full(publish, carries):
    loaded = EventSchema().load(
        {"type": "publication_decided", "on": "2026-12-01", "publish": publish}
    )
    assert carries_document(loaded) is carries


def test_s8_publish_takes_only_its_three_choices():
    with pytest.raises(ValidationError) as caught:
        EventSchema().load({"type": "publication_decided", "on": "2026-12-01", "publish": "some"})
    assert "full_report, improvements_only, none" in dict(flatten(caught.value.messages))["publish"]
