"""The rows of DESIGN.md §4 (the cases), why one may be blocked, and what classifying answers.

The names here are part of the ``plan`` JSON contract (``classification``, ``blocked_reason``,
the notifications' ``trigger``): keep them stable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = [
    "ADULT_AGE",
    "ANOTHER_LA_NOTIFIES",
    "BECAME_AWARE",
    "BLOCKED_REASONS",
    "CARE_LEAVER_DEATH",
    "CARE_LEAVER_MAX_AGE",
    "CASES",
    "DATE_OF_DEATH",
    "LOOKED_AFTER_CHILD_DEATH",
    "NOT_NOTIFIABLE",
    "OLD_INCIDENT_YEARS",
    "PANEL_CONSULTATION_REQUIRED",
    "PANEL_CONSULTED",
    "SERIOUS_INCIDENT",
    "YOUNG_ADULT_HISTORICAL_HARM",
    "Classification",
    "Notification",
    "PanelConsultation",
]
"""What ``from adapter.rules import ...`` gives of these rows (with :func:`classify`)."""

ADULT_AGE = 18
"""A child is under 18 (or unborn)."""

CARE_LEAVER_MAX_AGE = 24
"""§2: the death of a care leaver "up to and including the age of 24" is notified."""

SERIOUS_INCIDENT = "serious_incident"
LOOKED_AFTER_CHILD_DEATH = "looked_after_child_death"
CARE_LEAVER_DEATH = "care_leaver_death"
YOUNG_ADULT_HISTORICAL_HARM = "young_adult_historical_harm"
NOT_NOTIFIABLE = "not_notifiable"
CASES = (
    SERIOUS_INCIDENT,
    LOOKED_AFTER_CHILD_DEATH,
    CARE_LEAVER_DEATH,
    YOUNG_ADULT_HISTORICAL_HARM,
)
"""The rows of DESIGN.md §4, in the order ``classification`` lists them."""

PANEL_CONSULTATION_REQUIRED = "panel_consultation_required"
ANOTHER_LA_NOTIFIES = "another_la_notifies"
BLOCKED_REASONS = (PANEL_CONSULTATION_REQUIRED, ANOTHER_LA_NOTIFIES)
"""Why the serious-incident row is not owed here (DESIGN.md §4)."""

OLD_INCIDENT_YEARS = 1
"""DESIGN.md §4: ``plan`` warns when the incident is more than a year older than the awareness."""
BECAME_AWARE = "became_aware_on"
PANEL_CONSULTED = "panel_consulted"
DATE_OF_DEATH = "date_of_death"

ABUSE = frozenset({"known", "suspected"})
HARMED = frozenset({"died", "seriously_harmed"})
"""The findings (``abuse_or_neglect``) and outcomes of §1: abuse or neglect known or suspected,
and a child died or was seriously harmed."""


@dataclass(frozen=True, slots=True)
class PanelConsultation:
    """The Panel's advice about a young adult's historical harm (§2): notify or do_not_notify."""

    on: dt.date
    outcome: str


@dataclass(frozen=True, slots=True)
class Notification:
    """A document owed because of the record itself, its addressees and what starts its clock."""

    document: str
    addressees: tuple[str, ...]
    trigger: str
    """``became_aware_on`` or ``panel_consulted`` (DESIGN.md §5), or ``date_of_death`` for a
    death notification when the child died after the local authority became aware (§2)."""
    trigger_on: dt.date
    case: str = ""
    """The catalogue case of ``document`` (:mod:`adapter.rules.catalogue`), when it has several."""


@dataclass(frozen=True, slots=True)
class Classification:
    """Which rows of DESIGN.md §4 apply, what is owed to whom, and what a reader should check."""

    notifiable: bool
    blocked_reason: str | None
    classification: tuple[str, ...]
    rapid_review_required: bool
    documents: tuple[Notification, ...]
    warnings: tuple[str, ...]

    @property
    def panel_trigger(self) -> Notification | None:
        """The Panel notification, whose trigger also starts the rapid review's clock (§3)."""
        for notification in self.documents:
            if notification.document == "incident_notification":
                return notification
        return None
