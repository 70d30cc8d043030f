"""Where a deadline stands at any moment (DESIGN.md §5): pending, due soon, overdue, met, met late.

A deadline falls due at the *end* of its due day in Europe/London, whatever the season: the due
instant is 23:59:59.999999 local time, which is 22:59:59.999999 UTC in summer (BST) and
23:59:59.999999 UTC in winter (GMT). Moments given in any time zone (an acknowledgement logged in
UTC late in the evening, say) are compared as instants, and "today" is the Europe/London date.

- ``met``: acknowledged at or before the due instant; ``met_late``: acknowledged after it;
- ``overdue``: not acknowledged and the due instant has passed;
- ``due_soon``: not acknowledged and at most ``due_soon_working_days`` working days are left,
  counting the working days after today up to and including the due day (today, already under
  way, does not count: on a Wednesday, a deadline on Friday has two working days left);
- ``pending``: otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from adapter.clock import LONDON
from adapter.deadlines.calendar import WorkingDayCalendar

DeadlineStatus = Literal["pending", "due_soon", "overdue", "met", "met_late"]

_END_OF_DAY = dt.time(23, 59, 59, 999_999)


def due_instant(due: dt.date) -> dt.datetime:
    """The last instant of the due day, Europe/London (aware), for receipts and comparisons."""
    return dt.datetime.combine(due, _END_OF_DAY, tzinfo=LONDON)


def start_of_day(day: dt.date) -> dt.datetime:
    """The first instant of ``day``, Europe/London (aware): a date-only event as an instant."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON)


def london_date(moment: dt.datetime) -> dt.date:
    """The Europe/London calendar date of an aware datetime."""
    _require_aware("moment", moment)
    return moment.astimezone(LONDON).date()


def is_on_time(acknowledged_at: dt.datetime, due: dt.date) -> bool:
    """Whether an acknowledgement (aware) meets a deadline on ``due``: at or before the end of
    the due day in Europe/London (DESIGN.md §5 ``met``); a receipt's ``on_time`` says the same."""
    _require_aware("acknowledged_at", acknowledged_at)
    return acknowledged_at <= due_instant(due)


def deadline_status(
    due: dt.date,
    now: dt.datetime,
    acknowledged_at: dt.datetime | None = None,
    *,
    calendar: WorkingDayCalendar,
    due_soon_working_days: int,
    satisfied_at: dt.datetime | None = None,
) -> DeadlineStatus:
    """The status of a deadline on ``due`` at ``now``, given when it was acknowledged (if ever)
    or when the plan says it is satisfied (``satisfied_at``).

    An acknowledgement is a fact: it meets the deadline whatever ``now`` is (a process whose
    clock is a moment behind the worker's that recorded it must not call it overdue). A
    satisfaction still to come (a published report's year, §8) is not yet a meeting."""
    _require_aware("now", now)
    done = acknowledged_at
    if done is None and satisfied_at is not None and satisfied_at <= now:
        done = satisfied_at
    if done is not None:
        return "met" if is_on_time(done, due) else "met_late"
    today = london_date(now)
    if today > due:
        return "overdue"
    left = calendar.working_days_between(today, due)
    return "due_soon" if left <= due_soon_working_days else "pending"


def pending_from(
    today: dt.date, calendar: WorkingDayCalendar, due_soon_working_days: int
) -> dt.date:
    """The first due day still ``pending`` on ``today``: an open deadline due before it is due
    soon (from today on) or overdue (before today). Lets a list filter on the status of each
    deadline *now*, in the query, rather than on the status last stored."""
    return calendar.add_working_days(today, due_soon_working_days + 1).result


def _require_aware(name: str, moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {moment!r}")
