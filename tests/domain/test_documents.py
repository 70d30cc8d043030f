"""Document payloads: §2 "all children fully represented", four on the form, the rest in text."""

from __future__ import annotations

import copy

from adapter.rules.documents import (
    CHILD_FIELDS_IN_TEXT,
    FORM_CHILDREN,
    event_document_payload,
    notification_payload,
    render_for_form,
)
from schemas.consistency import check_record
from schemas.incident import ChildSchema, IncidentRecordSchema


def test_four_children_fit_the_form_unchanged(sample_record):
    sample_record["children"] = [copy.deepcopy(sample_record["children"][0]) for _ in range(4)]
    assert render_for_form(sample_record) == sample_record


def test_s2_children_beyond_four_go_into_other_children_details(sample_record):
    child = sample_record["children"][0]
    sample_record["children"] = [dict(child, forenames=f"Child{i}") for i in range(1, 7)]
    sample_record["incident"]["other_children_details"] = "Siblings at school were spoken to."
    rendered = render_for_form(sample_record)
    assert len(rendered["children"]) == FORM_CHILDREN
    details = rendered["incident"]["other_children_details"].splitlines()
    assert details[0] == "Siblings at school were spoken to."
    assert details[1].startswith("Child 5: local_id: MOS-123456; forenames: Child5")
    assert "Child6" in details[2]
    assert len(sample_record["children"]) == 6, "the input record is not changed"


def test_unknown_identity_is_said_in_text(sample_record):
    sample_record["children"] = sample_record["children"] * 4 + [
        {"identity_known": False, "outcome": "died", "age_years": 3}
    ]
    text = render_for_form(sample_record)["incident"]["other_children_details"]
    assert text == "Child 5: identity not known; age_years: 3; outcome: died"


def test_s2_a_fifth_child_is_written_in_full(sample_record):
    """§2: "all children involved in the incident are fully and accurately represented"."""
    first = sample_record["children"][0]
    fifth = dict(
        first,
        forenames="Alex",
        upn="A123456789012",
        nhs_number="9434765919",
        date_of_birth_estimated=True,
        looked_after=True,
        placement_type="foster",
        child_in_need_plan=True,
        child_protection_plan={"active": True, "category": "NEG", "start_date": "2025-01-01"},
        known_to_childrens_social_care=False,
        known_to_agencies=["health", "education"],
        outcome="seriously_harmed",
        date_of_death=None,
        harm_description="fractured arm",
    )
    sample_record["children"] = [copy.deepcopy(first) for _ in range(4)] + [fifth]
    assert check_record(IncidentRecordSchema().load(sample_record), None) == []

    text = render_for_form(sample_record)["incident"]["other_children_details"]

    assert "\n" not in text and text.startswith("Child 5: local_id: MOS-123456; upn: A123456789012")
    parts = text.removeprefix("Child 5: ").split("; ")
    for expected in (
        "upn: A123456789012",
        "nhs_number: 9434765919",
        "date_of_birth_estimated: yes",
        "placement_type: foster",
        "child_in_need_plan: yes",
        "child_protection_plan: active yes, category NEG, from 2025-01-01",
        "known_to_childrens_social_care: no",
        "known_to_agencies: health, education",
        "harm_description: fractured arm",
    ):
        assert expected in parts
    assert not [part for part in parts if part.startswith("date_of_death")], "null is not written"
    reordered = dict(reversed(list(fifth.items())))
    sample_record["children"][4] = reordered
    assert render_for_form(sample_record)["incident"]["other_children_details"] == text


def test_every_child_field_of_the_record_has_its_place_in_the_text():
    assert sorted(CHILD_FIELDS_IN_TEXT) == sorted(set(ChildSchema().fields) - {"identity_known"})


def test_empty_nested_values_are_left_out(sample_record):
    child = dict(
        sample_record["children"][0],
        child_protection_plan={"active": None, "category": None, "start_date": None},
        known_to_agencies=[],
        placement_type="",
    )
    sample_record["children"] = [child] * 5
    text = render_for_form(sample_record)["incident"]["other_children_details"]
    for name in ("child_protection_plan", "known_to_agencies", "placement_type"):
        assert name not in text


def test_amendment_payload_names_the_version_it_replaces(sample_record):
    payload = notification_payload("incident_notification", sample_record, 2, amended_from=1)
    assert payload["version"] == 2 and payload["amends_version"] == 1
    assert payload["notification"]["incident"]["reference"] == "NEL-2026-014"


def test_event_document_carries_the_uploaded_bytes_unchanged():
    event = {
        "type": "rapid_review_completed",
        "on": "2026-12-01",
        "reviewer": None,
        "document": {
            "media_type": "application/pdf",
            "filename": "rr.pdf",
            "content_base64": "JVBERi0x",
        },
    }
    payload = event_document_payload("rapid_review", event)
    assert payload["attachment"]["content_base64"] == "JVBERi0x"
    assert payload["event"] == {"type": "rapid_review_completed", "on": "2026-12-01"}
