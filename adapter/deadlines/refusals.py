"""Refusing an event, or keeping it with a warning when it was recorded before (DESIGN.md §7).

A new event the guidance's order does not allow is refused (:class:`EventRefused`, naming the
event and the reason); an event recorded before the record was amended stays recorded, with a
warning (:class:`EventChecks`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.errors import EventRefused


def refuse(index: int, event: Mapping[str, Any], reason: str) -> EventRefused:
    return EventRefused(f"{named(index, event)} refused: {reason}")


def named(index: int, event: Mapping[str, Any]) -> str:
    return f"events.{index} ({event['type']} on {event['on'].isoformat()})"


class EventChecks:
    """The checks of one replay that depend on the record: an event's date against the
    incident's, the consultation only for historical harm, review events only for a notified
    serious incident (§2). A new event that fails one is refused; an event ``recorded`` before
    the record was amended is kept (it happened: DESIGN.md §4, facts that emerge later are
    amendments), with a warning naming the contradiction for the LA to check.

    ``recorded``: how many of the events, from the start of the list as given, were recorded
    before; the rest are new. ``warnings`` collects what the kept events contradict.
    """

    def __init__(self, recorded: int = 0) -> None:
        self.recorded = recorded
        self.warnings: list[str] = []

    def is_recorded(self, index: int) -> bool:
        return index < self.recorded

    def fail(self, index: int, event: Mapping[str, Any], reason: str) -> None:
        """Refuse a new event; keep a recorded one, with a warning."""
        if not self.is_recorded(index):
            raise refuse(index, event, reason)
        self.warnings.append(
            f"{named(index, event)} was recorded before the record was amended and stays "
            f"recorded (it happened), though the record as it now stands says: {reason}; "
            "check the record"
        )
