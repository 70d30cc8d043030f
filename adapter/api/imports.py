"""``/api/v1/imports``: upload a Liquidlogic or Mosaic export (multipart), follow its import.

Imports run in the background (DESIGN.md §7): the upload answers 202 with the import's
``Location`` once the file is stored and known to be an export; ``GET`` then shows its status
and progress (rows read, incidents created, unchanged and conflicting, row errors so far), and
at the end the first incident outcomes and row errors in full with the exact counts
(``incident_count`` and ``incident_outcomes``; ``error_count`` and ``rows_rejected``), saying
when either list was cut short. The upload's filename is personal data (exports are often named
after the child): like a row error's value, it is shown to the keys that may read the LA's
records, and ``null`` to admin and compliance keys.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.spec import problem_responses
from adapter.clock import utcnow
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.importers import SYSTEMS
from adapter.service.import_runs import accept_import, find_import
from adapter.store.import_runs import ImportDetail, import_detail
from adapter.store.models import ImportRunRow
from schemas.api import ImportSchema

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1",
    description="Case-system exports converted into incident notifications",
)

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "A Liquidlogic or Mosaic export: CSV (UTF-8, BOM, "
                        "Windows-1252) or XLSX",
                    },
                    "system": {"type": "string", "enum": ["auto", *SYSTEMS], "default": "auto"},
                },
            }
        }
    },
}


def import_view(record: ImportRunRow, detail: ImportDetail) -> dict[str, Any]:
    """An import as the API (and the admin page's refresh) shows it."""
    return {
        "id": record.id,
        "status": record.status,
        "filename": detail.filename,
        "sha256": record.sha256,
        "size": record.size,
        "system": record.system,
        "rows_total": record.rows_total,
        "rows_read": record.rows_read,
        "incidents_created": record.incidents_created,
        "incidents_unchanged": record.incidents_unchanged,
        "incidents_conflicting": record.incidents_conflicting,
        "incident_count": detail.incident_count,
        "incident_outcomes": detail.incident_outcomes,
        "incidents_truncated": detail.incidents_truncated,
        "error_count": record.error_count,
        "rows_rejected": detail.rows_rejected,
        "row_errors_truncated": record.error_count > len(detail.row_errors),
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "failure": detail.failure,
        "incidents": detail.incidents,
        "row_errors": detail.row_errors,
    }


@blp.route("/imports", methods=["POST"])
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(202, ImportSchema, description="Stored and queued; Location names the import")
@problem_responses(
    (400, "No file part 'file'"),
    (413, "The export is over the configured size or row limits"),
    (422, "The file cannot be read as an export, or the system is unknown"),
)
@requires("local_authority", "agency")
def create_import() -> Any:
    """Upload an export: it is converted and each incident submitted as ``POST /incidents``
    would, in the background.

    The file is read and its rows counted before the answer, so a file that cannot be read at
    all is a 422 (413 over the limits) and nothing is stored. Otherwise the answer is 202 with
    the import ``queued``; follow its ``Location`` for its progress and, once ``done``, each
    incident's outcome and the rows that could not be converted (with row number, column,
    value and reason).
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiProblem(400, "missing-file", "send the export as the multipart field 'file'")
    system = request.form.get("system", "auto")
    if system not in ("auto", *SYSTEMS):
        raise ApiProblem(
            422,
            "validation",
            "unknown system",
            field_errors=[("system", f"expected one of: auto, {', '.join(SYSTEMS)}")],
        )
    res = resources()
    try:
        record = accept_import(
            res.database,
            res.settings,
            principal(),
            upload.stream,
            upload.filename,
            system=system,
            now=utcnow(),
        )
    finally:
        upload.close()  # read whole: a large upload's spooled temporary file goes now
    with res.transaction() as session:
        found = find_import(session, principal(), record.id)
        assert found is not None  # stored a moment ago, by this key
        view = import_view(found, import_detail(res.keyring, found))
    location = url_for("imports.get_import_view", import_id=record.id)
    return view, 202, {"Location": location}


@blp.route("/imports/<import_id>", methods=["GET"])
@blp.response(200, ImportSchema)
@problem_responses((404, "No such import visible to this key"))
@requires(*READERS, "agency")
def get_import_view(import_id: str) -> Any:
    """An import: its status and progress, the upload's SHA-256, what became of each incident,
    and its row errors.

    An ``agency`` key reads only the imports it made itself; another's answers 404. Admin and
    compliance keys see where each row error and outcome is, not what the export said, and not
    the upload's filename (``null``), which may name the child.
    """
    res = resources()
    with res.transaction() as session:
        record = find_import(session, principal(), import_id)
        if record is None:
            raise ApiProblem(404, "not-found", f"no import {import_id} is visible to this key")
        detail = import_detail(res.keyring, record)
        if principal().role in ("admin", "compliance"):
            detail = without_personal_data(detail)
        return import_view(record, detail)


_KEPT_FOR_STAFF = {
    "incidents": ("reference", "id", "outcome", "rows"),
    "row_errors": ("row", "field"),
}
"""What an admin or compliance key sees of an import's outcomes: where, not what. A row error's
value and message, and an incident's detail, may quote the export (an NHS number, a name), as the
upload's filename may name the child, and DESIGN.md §7 gives those roles queues, retries,
receipts and audit, not children's data."""


def without_personal_data(detail: ImportDetail) -> ImportDetail:
    """``detail`` as admin and compliance keys (and pages) see it."""

    def kept(items: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{name: item[name] for name in names if name in item} for item in items]

    return replace(
        detail,
        filename=None,
        failure=None if detail.failure is None else "the import failed",
        incidents=kept(detail.incidents, _KEPT_FOR_STAFF["incidents"]),
        row_errors=kept(detail.row_errors, _KEPT_FOR_STAFF["row_errors"]),
    )
