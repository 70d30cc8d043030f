"""Deadlines of DESIGN.md §5: the working-day calendar, obligations, lifecycle events, status.

Pure domain (no Flask, SQLAlchemy or RQ). The service calls :func:`plan_incident` on every incident
change, :meth:`Obligation.status` or :func:`deadline_status` to report, and :func:`due_instant`
to stamp receipts.
"""

from __future__ import annotations

from adapter.deadlines.calendar import (
    Closure,
    WorkingDayCalendar,
    WorkingDaySum,
    add_calendar_months,
    calendar_for,
)
from adapter.deadlines.lifecycle import Decision, Lifecycle, Publication
from adapter.deadlines.obligations import Obligation, derive_obligations
from adapter.deadlines.plan import Plan, load_plan_input, plan_incident
from adapter.deadlines.status import (
    DeadlineStatus,
    deadline_status,
    due_instant,
    is_on_time,
    london_date,
    pending_from,
    start_of_day,
)

__all__ = [
    "Closure",
    "DeadlineStatus",
    "Decision",
    "Lifecycle",
    "Obligation",
    "Plan",
    "Publication",
    "WorkingDayCalendar",
    "WorkingDaySum",
    "add_calendar_months",
    "calendar_for",
    "deadline_status",
    "derive_obligations",
    "due_instant",
    "is_on_time",
    "load_plan_input",
    "london_date",
    "pending_from",
    "plan_incident",
    "start_of_day",
]
