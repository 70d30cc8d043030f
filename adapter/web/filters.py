"""Reading a list page's filters from its query string, and the links to its other pages.

A filter the reader got wrong (a date that is not a date) is reported next to its field and not
applied, GOV.UK style, rather than failing the whole page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for

from adapter.deadlines import LONDON

MAX_TEXT = 100
"""Longest free-text filter kept (characters)."""


@dataclass
class Filters:
    """The filters of one list page as read, and what was wrong with any of them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        """A free-text filter, trimmed; None when empty."""
        value = request.args.get(name, "").strip()[:MAX_TEXT]
        self.values[name] = value
        return value or None

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        """One of ``choices`` (anything else reads as ``default``)."""
        value = request.args.get(name, default)
        value = value if value in choices else default
        self.values[name] = value
        return value

    def date(self, name: str, label: str) -> dt.date | None:
        """An ISO date (``2026-11-23``, as ``<input type=date>`` sends it); None when empty."""
        raw = request.args.get(name, "").strip()[:MAX_TEXT]
        self.values[name] = raw
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.errors.append((name, f"{label} must be a real date, like 2026-11-23"))
            return None

    def limit(self) -> int | None:
        """Items per page asked for (``?limit=``), clamped by the repositories; None: default."""
        raw = request.args.get("limit", "")
        return int(raw) if raw.isdigit() else None

    def error_for(self, name: str) -> str | None:
        """The message for the field ``name``, if it was wrong."""
        return next((message for field_name, message in self.errors if field_name == name), None)


def london_midnight(day: dt.date) -> dt.datetime:
    """The instant ``day`` begins in England, in UTC (date filters are days in Europe/London)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LONDON).astimezone(dt.UTC)


def next_page_url(cursor: str | None) -> str | None:
    """The link to the next page of this list, keeping its filters (None on the last page)."""
    if cursor is None:
        return None
    values: dict[str, Any] = {**_kept_args(), "cursor": cursor}
    return url_for(str(request.endpoint), **values)


def first_page_url() -> str | None:
    """The link back to the first page with the same filters (None when on the first page)."""
    if "cursor" not in request.args:
        return None
    values: dict[str, Any] = _kept_args()
    return url_for(str(request.endpoint), **values)


def _kept_args() -> dict[str, Any]:
    """The page's path arguments and filters, without its cursor."""
    kept = {key: value for key, value in request.args.items() if key != "cursor"}
    return {**(request.view_args or {}), **kept}
