"""Factories with defaults for the storage tests (STYLE.md: make_x(**overrides))."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from tests.support.records import LOCAL_AUTHORITY, NOTIFIER

CHILD_FORENAMES = "Zephyrine"
CHILD_SURNAME = "Quarrington"
CHILD_NHS_NUMBER = "9434765919"
"""Distinctive personal data whose bytes must never appear in the database unencrypted."""

_RECORD: dict[str, Any] = {
    "schema_version": "1",
    "local_authority": dict(LOCAL_AUTHORITY),
    "notifier": dict(NOTIFIER),
    "incident": {
        "reference": "NEL-2026-014",
        "nature": "death",
        "other_rationale": None,
        "abuse_or_neglect": "suspected",
        "date": "2026-11-20",
        "time": "14:30",
        "became_aware_on": "2026-11-23",
        "location": None,
        "setting": "home",
        "suicide": False,
        "historical_harm": False,
        "wider_risk_to_other_children": False,
        "parallel_processes": ["coroner"],
        "summary": "case outline",
        "other_children_details": None,
    },
    "children": [
        {
            "identity_known": True,
            "local_id": "MOS-123456",
            "upn": None,
            "nhs_number": CHILD_NHS_NUMBER,
            "forenames": CHILD_FORENAMES,
            "surname": CHILD_SURNAME,
            "date_of_birth": "2015-03-02",
            "age_years": None,
            "unborn": False,
            "sex": "female",
            "ethnicity": "WBRI",
            "disability": "no",
            "looked_after": True,
            "placement_type": None,
            "care_leaver": False,
            "child_in_need_plan": False,
            "child_protection_plan": None,
            "known_to_childrens_social_care": True,
            "known_to_agencies": ["health"],
            "outcome": "died",
            "date_of_death": "2026-11-20",
            "harm_description": None,
        }
    ],
    "source": {"system": "json", "file": None, "row": None, "record_ids": None},
}


def make_record(
    *, la: str = "812", reference: str = "NEL-2026-014", children: int = 1, **incident: Any
) -> dict[str, Any]:
    """An incident record in JSON form; ``incident`` keys override ``record["incident"]``."""
    record = copy.deepcopy(_RECORD)
    record["local_authority"]["code"] = la
    record["incident"]["reference"] = reference
    record["incident"].update(incident)
    first = record["children"][0]
    record["children"] = [dict(first, local_id=f"MOS-{index}") for index in range(children)]
    return record


def make_event(
    kind: str = "rapid_review_completed",
    on: str = "2026-12-01",
    document: bytes | None = b"%PDF-1.7 rapid review",
    **fields: Any,
) -> dict[str, Any]:
    """A lifecycle event in JSON form, with a base64 document unless ``document`` is None."""
    import base64

    event: dict[str, Any] = {"type": kind, "on": on, **fields}
    if document is not None:
        event["document"] = {
            "media_type": "application/pdf",
            "filename": "review.pdf",
            "content_base64": base64.b64encode(document).decode("ascii"),
        }
    return event


def make_obligation(
    document: str = "incident_notification",
    addressee: str = "panel",
    due: dt.date = dt.date(2026, 11, 30),
    **fields: Any,
) -> dict[str, Any]:
    """One obligation as ``plan`` lists it."""
    return {
        "document": document,
        "addressee": addressee,
        "due": due.isoformat(),
        "kind": fields.pop("kind", "statutory"),
        "explanation": fields.pop("explanation", "5 working days after 2026-11-23"),
        **fields,
    }
