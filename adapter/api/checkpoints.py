"""``GET /api/v1/receipts/checkpoints``: the receipt log's checkpoints, as kept outside the
database (issue 19; :mod:`adapter.receipts.witness`).

The answer is the witness file itself, one signed checkpoint per line (JSON Lines), what
``csins-adapter receipts audit --checkpoint FILE`` takes: keep a copy where the service's
database users cannot write, and an audit against it shows a log that lost its tail since.

Read by ``compliance`` and ``admin`` keys, as receipts are. A checkpoint holds no LA's data, only
the size and head hash of the whole log (each receipt already shows its place in it), so every
such key reads the same file; each download is written to the audit log under the caller's LA.
"""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from adapter.api.auth import principal, requires
from adapter.api.receipts import RECEIPT_READERS
from adapter.api.resources import resources
from adapter.apikeys import Principal
from adapter.receipts.witness import FILE_NAME, witness_download, witness_path
from adapter.store import audit as audit_log
from adapter.store.models import ALL_LAS

JSON_LINES = "application/jsonl"
"""The media type of the download: one JSON checkpoint file document per line."""

blp = Blueprint(
    "checkpoints",
    __name__,
    description="Signed checkpoints of the receipt log, kept outside the database",
)


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


@blp.route("/api/v1/receipts/checkpoints", methods=["GET"])
@blp.response(
    200,
    description=(
        "The signed checkpoints (JSON Lines: one {checkpoint, jws} per line, oldest first; "
        "empty before the first)"
    ),
    content_type=JSON_LINES,
)
@requires(*RECEIPT_READERS)
def checkpoints() -> Response:
    """Every checkpoint of the receipt log written outside the database, oldest first."""
    return checkpoints_response(principal(), "api")
