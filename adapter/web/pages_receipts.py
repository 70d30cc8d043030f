"""Receipts with their verification status, as a JSON download and as a page to print and file.

Every receipt shown is verified against the current signing keyring's public keys (the keys the
JWKS publishes, old ones included), exactly as ``csins-adapter receipts verify`` would, and is
also checked against the row it was stored in. Downloads and printable copies are audited.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import abort, current_app, render_template, request
from werkzeug.wrappers import Response

from adapter.clock import utcnow
from adapter.http.downloads import checkpoints_response
from adapter.http.resources import resources
from adapter.receipts import SigningKeyring, VerificationFailed, load_keyring, verify_receipt
from adapter.receipts.audit import stored_difference
from adapter.receipts.log import get_receipt, list_receipts, signed
from adapter.store import audit_log
from adapter.store.api_keys import Principal
from adapter.store.receipt_models import ReceiptRow
from adapter.web import queries, sessions
from adapter.web.blueprint import bp
from adapter.web.filters import Filters, london_day_end, london_midnight
from schemas.codes import DOCUMENTS

KEYRING_REFRESH_SECONDS = 60.0
"""How long (seconds) the signing keyring read from disk is reused: a rotated key is picked up
within this time without a restart."""

_KEYRING = "csins.web.signing_keyring"


@dataclass(frozen=True)
class Verification:
    """Whether a stored receipt verifies, with the signing key id or the one-line reason."""

    ok: bool
    kid: str | None = None
    reason: str | None = None


def public_keys() -> Mapping[str, Ed25519PublicKey]:
    """The current keyring's public keys, re-read at most every :data:`KEYRING_REFRESH_SECONDS`."""
    cached: tuple[float, SigningKeyring] | None = current_app.extensions.get(_KEYRING)
    if cached is None or time.monotonic() - cached[0] > KEYRING_REFRESH_SECONDS:
        settings = resources().settings
        keyring = load_keyring(
            settings.data_dir,
            key_file=settings.signing_key_file,
            keys_dir=settings.signing_keys_dir,
        )
        cached = (time.monotonic(), keyring)
        current_app.extensions[_KEYRING] = cached
    return cached[1].public_keys


def verify_row(row: ReceiptRow, keys: Mapping[str, Ed25519PublicKey]) -> Verification:
    """Verify the stored JWS, then that it is the receipt of the row it is stored in."""
    try:
        verified = verify_receipt(signed(row), keys)
    except VerificationFailed as failed:
        return Verification(False, reason=failed.reason)
    differs = stored_difference(row, verified.content)  # the audit's own comparison
    if differs is not None:
        return Verification(
            False,
            kid=verified.kid,
            reason=f"the signed {differs[1]} does not match the stored receipt",
        )
    return Verification(True, kid=verified.kid)


@bp.route("/receipts")
@sessions.signed_in()
def receipts() -> str:
    """Receipts in log order, filtered by addressee, document, incident and acknowledgement date."""
    res, who, filters = resources(), sessions.principal(), Filters()
    addressee = filters.text("addressee")
    document = filters.choice("document", ("", *DOCUMENTS), "") or None
    incident = filters.text("incident")
    date_from = filters.date("from", "The 'acknowledged from' date")
    date_to = filters.date("to", "The 'acknowledged to' date")
    with res.transaction() as db:
        page = list_receipts(
            db,
            who.la_scope,
            incident_id=incident,
            addressee=addressee,
            document=document,
            acknowledged_from=london_midnight(date_from) if date_from else None,
            acknowledged_before=london_day_end(date_to) if date_to else None,
            cursor=request.args.get("cursor") or None,
            limit=filters.limit(),
        )
        keys = public_keys()
        rows = [{"receipt": row, "verification": verify_row(row, keys)} for row in page.items]
        references = queries.incident_references(
            db, who.la_scope, [row.incident_id for row in page.items]
        )
    return render_template(
        "admin/receipts.html",
        title="Receipts",
        rows=rows,
        references=references,
        filters=filters,
        documents=DOCUMENTS,
        next_url=filters.next_page_url(page.next),
        first_url=filters.first_page_url(),
    )


@bp.route("/receipts/checkpoints")
@sessions.signed_in()
def download_checkpoints() -> Response:
    """The receipt log's checkpoints kept outside the database (the witness file), to keep
    and to audit against: ``csins-adapter receipts audit --checkpoint FILE``."""
    return checkpoints_response(sessions.principal(), "web")


@bp.route("/receipts/<receipt_id>")
@sessions.signed_in()
def receipt(receipt_id: str) -> str:
    """One receipt on one printable page: what it attests, its verification, and its JWS."""
    res, who = resources(), sessions.principal()
    with res.transaction() as db:
        row = _visible(db, who, receipt_id)
        document = signed(row)
        verification = verify_row(row, public_keys())
        reference = queries.incident_references(db, who.la_scope, [row.incident_id])
        _audit_download(db, who, row, "page")
        return render_template(
            "admin/receipt.html",
            title=f"Delivery receipt {row.sequence}",
            row=row,
            content=document.content,
            jws=document.jws,
            verification=verification,
            now=utcnow(),
            reference=reference.get(row.incident_id, ""),
        )


@bp.route("/receipts/<receipt_id>/download")
@sessions.signed_in()
def download_receipt(receipt_id: str) -> Response:
    """The receipt file (readable content and JWS) that ``receipts verify`` checks offline."""
    res, who = resources(), sessions.principal()
    with res.transaction() as db:
        row = _visible(db, who, receipt_id)
        body = signed(row).to_json()
        _audit_download(db, who, row, "json")
        filename = f"receipt-{row.sequence:06d}-{row.id}.json"
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _visible(db: Any, who: Principal, receipt_id: str) -> ReceiptRow:
    row = get_receipt(db, who.la_scope, receipt_id)
    if row is None:
        abort(404)
    return row


def _audit_download(db: Any, who: Principal, row: ReceiptRow, form: str) -> None:
    audit_log.audit_by(
        db,
        who,
        "receipt.downloaded",
        la_code=row.la_code,
        object_type="receipt",
        object_id=row.id,
        detail={"format": form, "sequence": row.sequence},
    )
