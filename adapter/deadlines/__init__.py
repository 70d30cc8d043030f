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
    LONDON,
    DeadlineStatus,
    deadline_status,
    due_instant,
    london_date,
    pending_from,
)

__all__ = [
    "LONDON",
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
    "load_plan_input",
    "london_date",
    "pending_from",
    "plan_incident",
]
