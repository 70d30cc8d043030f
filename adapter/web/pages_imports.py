"""Imports: each export being imported in the background, with its progress (DESIGN.md §7).

The page lists the latest imports of the key's scope with a progress bar (an HTML ``<progress>``
with its numbers in words, readable without JavaScript); where JavaScript runs, the page asks
:func:`imports_progress` for the same rows every few seconds while it is in view, and lays its
table out again from them without a full reload: counts grow, and an import started after the
page was loaded (from another tab, the API or the command line) appears. That polling does not
keep the session alive (:func:`sessions.passive`). Filenames are not shown: exports are often
named after the child, and these pages are for admin and compliance keys (§7).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template
from werkzeug.wrappers import Response

from adapter.http.resources import resources
from adapter.store.import_runs import list_imports
from adapter.store.models import ImportRunRow
from adapter.web import sessions
from adapter.web.blueprint import bp
from adapter.web.formatting import iso_london, london_time, short_id, words

IMPORTS_SHOWN = 50
"""The latest imports the page lists."""

REFRESH_SECONDS = 2
"""How often the page asks for fresh rows while it is in view (with JavaScript)."""

BLANK_ROW: dict[str, Any] = {
    "id": "",
    "status": "queued",
    "started_iso": "",
    "started": "",
    "short_id": "",
    "system_name": "",
    "rows_read": 0,
    "rows_total": 0,
    "percent": 0,
    "incidents_created": 0,
    "incidents_unchanged": 0,
    "incidents_conflicting": 0,
    "error_count": 0,
}
"""The row the page's ``<template>`` holds for its script to fill in (an import it has not seen)."""


def import_row(record: ImportRunRow) -> dict[str, Any]:
    """What the page (and its refresh) shows of an import: counts and codes, nothing personal;
    the words and times as the page writes them, so its script need not format anything."""
    total = record.rows_total or 0
    done = record.status == "done"
    read = total if done and total else min(record.rows_read, total) if total else 0
    return {
        "id": record.id,
        "status": record.status,
        "system": record.system,
        "created_at": record.created_at.isoformat(),
        "started": london_time(record.created_at),
        "started_iso": iso_london(record.created_at),
        "short_id": short_id(record.id),
        "system_name": words(record.system),
        "rows_read": read,
        "rows_total": total,
        "percent": 100 if done else (read * 100 // total if total else 0),
        "incidents_created": record.incidents_created,
        "incidents_unchanged": record.incidents_unchanged,
        "incidents_conflicting": record.incidents_conflicting,
        "error_count": record.error_count,
    }


def _rows() -> list[dict[str, Any]]:
    res, who = resources(), sessions.principal()
    with res.transaction() as db:
        return [
            import_row(record) for record in list_imports(db, who.la_scope, limit=IMPORTS_SHOWN)
        ]


@bp.route("/imports")
@sessions.signed_in()
def imports() -> str:
    """The latest imports with their progress."""
    return render_template(
        "admin/imports.html",
        title="Imports",
        rows=_rows(),
        blank_row=BLANK_ROW,
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.route("/imports/progress.json")
@sessions.signed_in()
def imports_progress() -> Response:
    """The page's rows, newest first, for its script to lay the table out again (JSON)."""
    sessions.passive()
    return jsonify({"items": _rows()})
