"""Files both the API and the pages offer for download."""

from __future__ import annotations

from flask import Response

from adapter.http.resources import resources
from adapter.receipts.witness import FILE_NAME, witness_download, witness_path
from adapter.store import audit_log
from adapter.store.access_models import ALL_LAS
from adapter.store.api_keys import Principal

JSON_LINES = "application/jsonl"
"""The media type of the download: one JSON checkpoint file document per line."""


def checkpoints_response(who: Principal, via: str) -> Response:
    """The witness file as a download, the download audited (API and web pages alike)."""
    res = resources()
    path = witness_path(res.settings)
    with res.transaction() as session:
        audit_log.audit(
            session,
            action="receipt_checkpoints.downloaded",
            la_code=None if who.la_code == ALL_LAS else who.la_code,
            key_id=who.key_id,
            actor_role=who.role,
            object_type="receipt_log",
            object_id=FILE_NAME,
            detail={"via": via},
        )
    return Response(
        witness_download(path),
        mimetype=JSON_LINES,
        headers={"Content-Disposition": f'attachment; filename="{FILE_NAME}"'},
    )
