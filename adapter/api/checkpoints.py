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
from adapter.http.downloads import JSON_LINES, checkpoints_response

blp = Blueprint(
    "checkpoints",
    __name__,
    description="Signed checkpoints of the receipt log, kept outside the database",
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
