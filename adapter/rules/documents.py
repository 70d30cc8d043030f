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

from adapter.rules.catalogue import RECORD_DOCUMENTS

FORM_CHILDREN = 4
"""Children the national notification form has room for (DESIGN.md §3)."""

NOTIFICATION_DOCUMENTS = RECORD_DOCUMENTS
"""Documents built from the incident record itself, sent as soon as the incident is recorded
(the catalogue's notifications, :mod:`adapter.rules.catalogue`)."""

CHILD_FIELDS_IN_TEXT = (
    "local_id",
    "upn",
    "nhs_number",
    "forenames",
    "surname",
    "date_of_birth",
    "date_of_birth_estimated",
    "age_years",
    "unborn",
    "sex",
    "ethnicity",
    "disability",
    "looked_after",
    "placement_type",
    "care_leaver",
    "child_in_need_plan",
    "child_protection_plan",
    "known_to_childrens_social_care",
    "known_to_agencies",
    "outcome",
    "date_of_death",
    "harm_description",
)
"""Every field of a child (DESIGN.md §3) but ``identity_known``, in the record's order: the order
they are written into ``other_children_details``. Any other key is written after them, by name."""

_NESTED_LABELS = {"start_date": "from"}
"""Readable words for keys of nested values (``child_protection_plan``), where the key is not."""


def _is_empty(value: Any) -> bool:
    """Not known, so not written: null, empty text, or a list or object with nothing in it."""
    if isinstance(value, Mapping):
        return all(_is_empty(item) for item in value.values())
    return value is None or (isinstance(value, str | list | tuple) and not value)


def _readable(value: Any) -> str:
    """One value as words: yes/no, lists joined with commas, objects as ``key value`` pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(
            f"{_NESTED_LABELS.get(key, key)} {_readable(item)}"
            for key, item in value.items()
            if not _is_empty(item)
        )
    if isinstance(value, list | tuple):
        return ", ".join(_readable(item) for item in value if not _is_empty(item))
    return str(value)


def readable(value: Any) -> str:
    """One value as a person writes it into a form: yes/no, lists and objects as words."""
    return _readable(value)


def is_empty(value: Any) -> bool:
    """Whether ``value`` is not known (null, empty text, an empty list or object)."""
    return _is_empty(value)


def _describe_child(number: int, child: Mapping[str, Any]) -> str:
    """One line saying everything known of a child the form has no room for (§2: all children
    fully and accurately represented), in a stable order whatever the order of the record's keys."""
    extra = sorted(set(child) - {"identity_known", *CHILD_FIELDS_IN_TEXT})
    parts = [
        f"{name}: {_readable(child[name])}"
        for name in (*CHILD_FIELDS_IN_TEXT, *extra)
        if name in child and not _is_empty(child[name])
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
