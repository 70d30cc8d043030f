"""Imports: each export being imported in the background, with its progress (DESIGN.md §7).

The page lists the latest imports of the key's scope with a progress bar (an HTML ``<progress>``
with its numbers in words, readable without JavaScript); where JavaScript runs, the page asks
:func:`imports_progress` for fresh counts every few seconds while an import is still queued or
running, and updates itself without a full reload. Filenames are not shown: exports are often
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

IMPORTS_SHOWN = 50
"""The latest imports the page lists."""

REFRESH_SECONDS = 2
"""How often the page asks for fresh counts while an import is unfinished (with JavaScript)."""


def import_row(record: ImportRunRow) -> dict[str, Any]:
    """What the page (and its refresh) shows of an import: counts and codes, nothing personal."""
    total = record.rows_total or 0
    done = record.status == "done"
    read = total if done and total else min(record.rows_read, total) if total else 0
    return {
        "id": record.id,
        "status": record.status,
        "system": record.system,
        "created_at": record.created_at.isoformat(),
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
            dict(import_row(record), created=record.created_at)
            for record in list_imports(db, who.la_scope, limit=IMPORTS_SHOWN)
        ]


@bp.route("/imports")
@sessions.signed_in()
def imports() -> str:
    """The latest imports with their progress."""
    return render_template(
        "admin/imports.html",
        title="Imports",
        rows=_rows(),
        refresh_seconds=REFRESH_SECONDS,
    )


@bp.route("/imports/progress.json")
@sessions.signed_in()
def imports_progress() -> Response:
    """The imports' counts for the page's refresh (JSON)."""
    rows = [{k: v for k, v in row.items() if k != "created"} for row in _rows()]
    return jsonify({"items": rows})
