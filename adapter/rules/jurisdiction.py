"""Which local authority owes the serious-incident row (DESIGN.md §4 "Which LA owes it").

§2: "The local authority where the incident occurred ... must notify the Child Safeguarding
Practice Review Panel" (Children Act 2004 s16C). An incident outside England is notified by the
LA where the child is normally resident. The rows about a looked-after child's or care leaver's
death are owed by the responsible authority wherever the death happened, so they are not
decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LOCATION_UNKNOWN = (
    "incident.location unknown (location.in_la_area not given): treated as in this local "
    "authority's area, which owes the Panel notification (§2 'the local authority where the "
    "incident occurred'); amend the record when it is known"
)
"""The warning when nothing says where the incident happened."""


def owed_here_by(location: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """Whether this LA owes the serious-incident row (§2 "the local authority where the
    incident occurred"; Children Act 2004 s16C), and where the incident is known to be.

    In the area, or outside England with the child normally resident here: owed here. Outside
    the area otherwise: another LA's (the English LA where it happened, or outside England the
    LA where the child lives). Unknown (``location`` or ``in_la_area`` absent): treated as in
    the area, ``where`` None so that the caller warns.
    """
    if location and location.get("outside_england_normally_resident"):
        return True, "outside_england"
    in_area = None if not location else location.get("in_la_area")
    if in_area is None:
        return True, None
    return bool(in_area), "in_area" if in_area else "elsewhere"


def another_la_notifies(other_rows: bool) -> str:
    """What ``plan`` says when the incident is another LA's to notify (``other_rows``: a death
    notification is still owed here)."""
    besides = (
        "; the death notification is still owed here by the responsible authority"
        if other_rows
        else ""
    )
    return (
        "incident.location.in_la_area is false: the incident happened in another local "
        "authority's area, which notifies the Panel and leads the rapid review (§2 'the local "
        "authority where the incident occurred'; outside England, the LA where the child is "
        "normally resident): nothing is owed to the Panel here (blocked_reason "
        f"another_la_notifies){besides}; tell that local authority if it may not know"
    )
