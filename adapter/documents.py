"""What each delivery carries: the document payloads built from an incident record (DESIGN.md §6).

Notifications carry the incident record as the Panel's form takes it: at most
:data:`FORM_CHILDREN` children in the structured list, every further child written into
``other_children_details`` so that all children are fully represented (§2). Documents produced
by lifecycle events (rapid review, review decision, reports) carry the uploaded bytes as
base64 with their media type; the receipt hashes exactly what was sent.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

FORM_CHILDREN = 4
"""Children the national notification form has room for (DESIGN.md §3)."""

NOTIFICATION_DOCUMENTS = frozenset(
    {
        "incident_notification",
        "looked_after_child_death_notification",
        "care_leaver_death_notification",
    }
)
"""Documents built from the incident record itself, sent as soon as the incident is recorded."""

_CHILD_FIELDS_IN_TEXT = (
    "local_id",
    "forenames",
    "surname",
    "date_of_birth",
    "age_years",
    "unborn",
    "sex",
    "ethnicity",
    "disability",
    "looked_after",
    "care_leaver",
    "outcome",
    "date_of_death",
    "harm_description",
)


def _describe_child(number: int, child: Mapping[str, Any]) -> str:
    parts = [
        f"{name}: {child[name]}"
        for name in _CHILD_FIELDS_IN_TEXT
        if child.get(name) not in (None, "")
    ]
    if not child.get("identity_known"):
        parts.insert(0, "identity not known")
    return f"Child {number}: " + "; ".join(parts)


def render_for_form(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record (JSON form, dates as ISO strings) with children beyond the form's four in text."""
    rendered = copy.deepcopy(dict(record))
    children: Sequence[Mapping[str, Any]] = rendered.get("children") or []
    if len(children) <= FORM_CHILDREN:
        return rendered
    extra = [
        _describe_child(number, child)
        for number, child in enumerate(children[FORM_CHILDREN:], start=FORM_CHILDREN + 1)
    ]
    incident = rendered["incident"]
    existing = incident.get("other_children_details")
    incident["other_children_details"] = "\n".join([existing, *extra] if existing else extra)
    rendered["children"] = list(children[:FORM_CHILDREN])
    return rendered


def notification_payload(
    document: str, record_json: Mapping[str, Any], version: int, amended_from: int | None = None
) -> dict[str, Any]:
    """The payload of a notification (or of an amendment to one, naming the version it replaces)."""
    payload: dict[str, Any] = {
        "document": document,
        "version": version,
        "notification": render_for_form(record_json),
    }
    if amended_from is not None:
        payload["amends_version"] = amended_from
    return payload


def event_document_payload(document: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of a document a lifecycle event produced (rapid review, decision, report...).

    ``event`` is the JSON form of the event; its ``document`` (media type and base64 content) is
    carried unchanged, with the event's own facts (decision, reviewer, publication date, reason).
    """
    facts = {key: value for key, value in event.items() if key != "document" and value is not None}
    payload: dict[str, Any] = {"document": document, "event": facts}
    if event.get("document"):
        payload["attachment"] = dict(event["document"])
    return payload
