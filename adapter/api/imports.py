"""``/api/v1/imports``: upload a Liquidlogic or Mosaic export (multipart), read an import back."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint

from adapter.api.auth import READERS, principal, requires
from adapter.api.problems import ApiProblem
from adapter.api.resources import resources
from adapter.importers import SYSTEMS
from adapter.service.clock import utcnow
from adapter.service.imports import import_export
from adapter.store.imports import get_import, import_incidents, import_row_errors
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
    record: ImportRecord, incidents: list[dict[str, Any]], row_errors: list[dict[str, Any]]
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

    Rows that cannot be converted are returned with their row number, column, value and reason;
    the others still go in. A file that cannot be read at all is a 422 (413 over the limits).
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
    return _view(done.record, done.incidents, done.row_errors), 201, {"Location": location}


@blp.route("/imports/<import_id>", methods=["GET"])
@blp.response(200, ImportSchema)
@requires(*READERS, "agency")
def get_import_view(import_id: str) -> Any:
    """An import: the upload's SHA-256, what became of each incident, and every row error."""
    res = resources()
    with res.transaction() as session:
        record = get_import(session, principal().la_scope, import_id)
        if record is None:
            raise ApiProblem(404, "not-found", f"no import {import_id} is visible to this key")
        return _view(
            record, import_incidents(res.keyring, record), import_row_errors(res.keyring, record)
        )
