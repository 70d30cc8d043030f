"""The service's exceptions: one base, each error carrying its context.

CsinsError
├── InvalidRecord          an incident record or event failed validation (field errors)
├── ExportError            an export file cannot be read at all (convert exits 2)
│   ├── UnrecognisedExport     headers match neither system; names the missing columns
│   └── ExportTooLarge         over the byte or row limit
├── CalendarRangeError     a date outside the years whose bank holidays are known
└── EventRefused           a lifecycle event out of order or otherwise impossible
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence


class CsinsError(Exception):
    """Base of every error the service raises on purpose."""


class InvalidRecord(CsinsError):
    """A record failed validation; ``problems`` are ``(dotted field path, message)`` pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.problems))


class ExportError(CsinsError):
    """The export file cannot be read at all: nothing was converted."""


class UnrecognisedExport(ExportError):
    """The header set matches neither Liquidlogic nor Mosaic."""

    def __init__(self, missing: dict[str, Sequence[str]]) -> None:
        self.missing = {system: list(columns) for system, columns in missing.items()}
        detail = "; ".join(
            f"as {system} it lacks {', '.join(columns)}" for system, columns in self.missing.items()
        )
        super().__init__(f"not a Liquidlogic or Mosaic export: {detail}")


class ExportTooLarge(ExportError):
    """Over the configured byte or row limit."""


class CalendarRangeError(CsinsError):
    """A working-day sum reached a year whose bank holidays the calendar does not know."""


class EventRefused(CsinsError):
    """A lifecycle event that cannot apply now (out of order, before the incident, ...)."""


def without_message(error: BaseException) -> str:
    """``error`` for a log line: its class and the frames it was raised through, never its
    message. A library's message may quote the input, and the input may be a child's personal
    data, which is never logged."""
    frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()
    return f"{type(error).__name__}; traceback (most recent call last):\n{frames}"
