"""Now and today, in the only two time zones the service speaks: UTC and Europe/London."""

from __future__ import annotations

import datetime as dt

from adapter.deadlines.status import LONDON


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def london_today(now: dt.datetime | None = None) -> dt.date:
    """Today's date in England (deadlines and "not in the future" checks use it)."""
    return (now or utcnow()).astimezone(LONDON).date()
