"""Now and today, in the only two time zones the service speaks: UTC and Europe/London.

Dependency-free on purpose: the schemas, the importers, the rules and the service all ask it
the date or the zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
"""Deadlines are days in England; "today" is the date in London."""


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def london_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in England (deadlines and "not in the future" checks use it)."""
    return (now or utcnow()).astimezone(LONDON).date()
