"""Reading a list page's filters from its query string, and the links to its other pages.

A filter the reader got wrong (a date that is not a date) is reported next to its field and not
applied, GOV.UK style, rather than failing the whole page. A page size that is not a number is a
400 page (it only ever comes from an edited link), and a page's links keep only the filters the
page read: any other name in the query string (``endpoint``, ``_method``, ``_external``…) would
be taken by ``url_for`` as one of its own arguments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import abort, request, url_for

from adapter.deadlines import start_of_day
from adapter.store.pagination import MAX_PAGE_SIZE

MAX_TEXT = 100
"""Longest free-text filter kept (characters)."""

MAX_LIMIT_DIGITS = len(str(MAX_PAGE_SIZE))
"""Digits of the largest page size; a longer ``?limit=`` is read as :data:`MAX_PAGE_SIZE`."""

CURSOR = "cursor"
"""The query parameter holding the position in a list (never kept in the first page's link)."""


@dataclass
class Filters:
    """The filters of one list page as read, and what was wrong with any of them."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)
    read: set[str] = field(default_factory=set)
    """Names of the query parameters the page read: the only ones its links carry on."""

    def text(self, name: str) -> str | None:
        """A free-text filter, trimmed; None when empty."""
        self.read.add(name)
        value = request.args.get(name, "").strip()[:MAX_TEXT]
        self.values[name] = value
        return value or None

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        """One of ``choices`` (anything else reads as ``default``)."""
        self.read.add(name)
        value = request.args.get(name, default)
        value = value if value in choices else default
        self.values[name] = value
        return value

    def date(self, name: str, label: str) -> dt.date | None:
        """An ISO date (``2026-11-23``, as ``<input type=date>`` sends it); None when empty."""
        self.read.add(name)
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
        """Items per page asked for (``?limit=``), at most :data:`MAX_PAGE_SIZE`; None: default.

        ASCII digits only (``str.isdigit`` also takes ``²``, which ``int`` refuses); anything
        else is a 400 page. A number too long to be a page size is read as the largest one, so
        ``int`` never meets thousands of digits.
        """
        self.read.add("limit")
        raw = request.args.get("limit", "").strip()
        if not raw:
            return None
        if not (raw.isascii() and raw.isdigit()):
            abort(400)
        digits = raw.lstrip("0") or "0"
        return MAX_PAGE_SIZE if len(digits) > MAX_LIMIT_DIGITS else min(int(digits), MAX_PAGE_SIZE)

    def error_for(self, name: str) -> str | None:
        """The message for the field ``name``, if it was wrong."""
        return next((message for field_name, message in self.errors if field_name == name), None)

    def next_page_url(self, cursor: str | None) -> str | None:
        """The link to the next page of this list, keeping its filters (None on the last page)."""
        if cursor is None:
            return None
        return self._url({CURSOR: cursor})

    def first_page_url(self) -> str | None:
        """The link back to the first page with the same filters (None when on the first page)."""
        if CURSOR not in request.args:
            return None
        return self._url({})

    def _url(self, extra: dict[str, Any]) -> str:
        """This page's address with the filters it read, as given, and ``extra``."""
        values: dict[str, Any] = dict(request.view_args or {})
        values.update(
            (name, value)
            for name, value in request.args.items()
            if name in self.read and name != CURSOR
        )
        return url_for(str(request.endpoint), **values, **extra)


def london_midnight(day: dt.date) -> dt.datetime:
    """The instant ``day`` begins in England, in UTC (date filters are days in Europe/London)."""
    return start_of_day(day).astimezone(dt.UTC)


def london_day_end(day: dt.date) -> dt.datetime | None:
    """The instant after ``day`` ends in England, in UTC, for a "to" filter; None (no bound) for
    the last day a date can name, which has no next day."""
    if day == dt.date.max:
        return None
    return london_midnight(day + dt.timedelta(days=1))
