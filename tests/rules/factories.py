"""Factories for incident records and events with defaults (STYLE.md "factories with defaults").

``make_child``/``make_record`` build raw JSON-like dicts (string dates), as a case system sends;
``load_record``/``load_events`` run them through the real schemas, as the service does.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.events import EventSchema
from schemas.incident import IncidentRecordSchema
from tests.support.records import LOCAL_AUTHORITY, nature_of

INCIDENT_DATE = "2026-11-20"
BECAME_AWARE_ON = "2026-11-23"


def make_child(**overrides: Any) -> dict[str, Any]:
    """A child known to the LA who died on the incident date, aged 11, not looked after."""
    child: dict[str, Any] = {
        "identity_known": True,
        "forenames": "Sam",
        "surname": "Example",
        "date_of_birth": "2015-03-02",
        "looked_after": False,
        "care_leaver": False,
        "outcome": "died",
    }
    child.update(overrides)
    if child["outcome"] == "died":
        child.setdefault("date_of_death", INCIDENT_DATE)
    if not child["identity_known"] and "date_of_birth" not in overrides:
        child.pop("date_of_birth")
    return child


def make_record(*children: dict[str, Any], **incident: Any) -> dict[str, Any]:
    """An incident with abuse or neglect suspected; ``nature`` follows the outcomes by default."""
    kids = [copy.deepcopy(child) for child in children] or [make_child()]
    nature = nature_of(child["outcome"] for child in kids)
    body: dict[str, Any] = {
        "reference": "NEL-2026-014",
        "nature": nature,
        "abuse_or_neglect": "suspected",
        "date": INCIDENT_DATE,
        "became_aware_on": BECAME_AWARE_ON,
        "historical_harm": False,
        "suicide": False,
        # DESIGN.md §4: the LA where the incident occurred notifies; unknown is warned of.
        "location": {"in_la_area": True},
    }
    if nature == "other":
        body["other_rationale"] = "no child harmed; notified for the wider risk"
    body.update(incident)
    return {
        "schema_version": "1",
        "local_authority": dict(LOCAL_AUTHORITY),
        "incident": body,
        "children": kids,
    }


def load_record(raw: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = IncidentRecordSchema().load(raw)
    return loaded


def make_event(kind: str, on: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "on": on, **fields}


def load_events(*events: dict[str, Any]) -> list[dict[str, Any]]:
    schema = EventSchema()
    return [schema.load(event) for event in events]
