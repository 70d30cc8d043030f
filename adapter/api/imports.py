"""``/api/v1/imports``: upload a Liquidlogic or Mosaic export (multipart), read an import back.

An import answers with the first row errors in full and the exact counts (``error_count``,
``rows_rejected``), saying when the list was cut short (``row_errors_truncated``).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.problems import ApiProblem
from adapter.api.resources import resources
from adapter.importers import SYSTEMS
from adapter.service.clock import utcnow
from adapter.service.imports import find_import, import_export
from adapter.store.imports import import_detail
from adapter.store.models import ImportRecord
from jobs.queues import enqueue_deliveries
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


def _view(
    record: ImportRecord,
    incidents: list[dict[str, Any]],
    row_errors: list[dict[str, Any]],
    rows_rejected: int,
) -> dict[str, Any]:
    return {
        "id": record.id,
        "filename": record.filename,
        "sha256": record.sha256,
        "size": record.size,
        "system": record.system,
        "rows_read": record.rows_read,
        "incidents_created": record.incidents_created,
        "error_count": record.error_count,
        "rows_rejected": rows_rejected,
        "row_errors_truncated": record.error_count > len(row_errors),
        "created_at": record.created_at,
        "incidents": incidents,
        "row_errors": row_errors,
    }


@blp.route("/imports", methods=["POST"])
@blp.doc(requestBody=_UPLOAD_BODY)
@blp.response(201, ImportSchema, description="Converted; each incident's outcome and row errors")
@requires("local_authority", "agency")
def create_import() -> Any:
    """Convert an export and submit each incident as ``POST /incidents`` would.

    Rows that cannot be converted are returned with their row number, column, value and reason
    (the first ones; ``error_count`` and ``rows_rejected`` count them all); the others still go
    in. A file that cannot be read at all is a 422 (413 over the limits).
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
    done = import_export(
        res.database,
        res.settings,
        principal(),
        upload.stream,
        upload.filename,
        system=system,
        now=utcnow(),
    )
    # Not new=True: the first incidents committed long before the last, and a sweep may have
    # enqueued their deliveries meanwhile.
    enqueue_deliveries(res.settings, done.deliveries)
    location = url_for("imports.get_import_view", import_id=done.record.id)
    view = _view(done.record, done.incidents, done.row_errors, done.rows_rejected)
    return view, 201, {"Location": location}


@blp.route("/imports/<import_id>", methods=["GET"])
@blp.response(200, ImportSchema)
@requires(*READERS, "agency")
def get_import_view(import_id: str) -> Any:
    """An import: the upload's SHA-256, what became of each incident, and its row errors.

    An ``agency`` key reads only the imports it made itself; another's answers 404. Admin and
    compliance keys see where each row error and outcome is, not what the export said.
    """
    res = resources()
    with res.transaction() as session:
        record = find_import(session, principal(), import_id)
        if record is None:
            raise ApiProblem(404, "not-found", f"no import {import_id} is visible to this key")
        detail = import_detail(res.keyring, record)
        incidents, row_errors = detail.incidents, detail.row_errors
        if principal().role in ("admin", "compliance"):
            incidents, row_errors = _without_personal_data(incidents, row_errors)
        return _view(record, incidents, row_errors, detail.rows_rejected)


_KEPT_FOR_STAFF = {
    "incidents": ("reference", "id", "outcome", "rows"),
    "row_errors": ("row", "field"),
}
"""What an admin or compliance key sees of an import's outcomes: where, not what. A row error's
value and message, and an incident's detail, may quote the export (an NHS number, a name), and
DESIGN.md §7 gives those roles queues, retries, receipts and audit, not children's data."""


def _without_personal_data(
    incidents: list[dict[str, Any]], row_errors: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def kept(items: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
        return [{name: item[name] for name in names if name in item} for item in items]

    return (
        kept(incidents, _KEPT_FOR_STAFF["incidents"]),
        kept(row_errors, _KEPT_FOR_STAFF["row_errors"]),
    )
