"""A notification laid out as the national online service (CSINS) asks for it (DESIGN.md §6).

The person making an assisted submission copies each answer into the online service: section by
section, at most :data:`~adapter.rules.documents.FORM_CHILDREN` children, every further child
already written into the further-information text by
:func:`adapter.rules.documents.render_for_form` (the payload carries the record that way).
Unknown answers are left out rather than shown blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapter.rules.documents import CHILD_FIELDS_IN_TEXT, is_empty, readable
from adapter.web.formatting import words

INCIDENT_FIELDS = (
    "reference",
    "nature",
    "other_rationale",
    "abuse_or_neglect",
    "date",
    "time",
    "became_aware_on",
    "location",
    "setting",
    "suicide",
    "historical_harm",
    "wider_risk_to_other_children",
    "parallel_processes",
    "summary",
)
"""The incident's answers in the order the online service asks them."""

FURTHER_INFORMATION = "other_children_details"
"""Where children beyond the form's four, and anything else, are written."""


@dataclass(frozen=True)
class Answer:
    """One question and its answer, as text to copy."""

    question: str
    answer: str
    key: str
    """A stable id for the answer (for the copy button and tests)."""


@dataclass(frozen=True)
class Section:
    """One page of the online service's form."""

    title: str
    answers: tuple[Answer, ...]


def sections(payload: Mapping[str, Any]) -> list[Section]:
    """The payload of a notification (or an amendment of one) as the form's sections."""
    record: Mapping[str, Any] = payload.get("notification") or {}
    found = [
        _section("Local authority", "la", record.get("local_authority") or {}, ("code", "name")),
        _section(
            "Person making the notification",
            "notifier",
            record.get("notifier") or {},
            ("name", "role", "email", "phone"),
        ),
        _section("The incident", "incident", record.get("incident") or {}, INCIDENT_FIELDS),
    ]
    for number, child in enumerate(record.get("children") or [], start=1):
        section = _section(f"Child {number}", f"child{number}", child, CHILD_FIELDS_IN_TEXT)
        if not child.get("identity_known"):
            note = Answer("Identity", "not known", f"child{number}-identity")
            section = Section(section.title, (note, *section.answers))
        found.append(section)
    further = (record.get("incident") or {}).get(FURTHER_INFORMATION)
    found.append(
        Section(
            "Further information",
            (Answer("Other children and further details", further, "further"),) if further else (),
        )
    )
    return [section for section in found if section.answers]


def _section(title: str, prefix: str, values: Mapping[str, Any], order: tuple[str, ...]) -> Section:
    extra = set(values) - set(order) - {FURTHER_INFORMATION, "identity_known"}
    keys = [*order, *sorted(extra)]
    return Section(
        title,
        tuple(
            Answer(words(key), readable(values[key]), f"{prefix}-{key}")
            for key in keys
            if key in values and not is_empty(values[key])
        ),
    )
