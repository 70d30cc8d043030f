"""Signed delivery receipts for compliance officers, and the public keys that verify them (§6, §7).

``GET /api/v1/receipts`` lists receipts, ``GET /api/v1/receipts/{id}`` answers one receipt file
(``{"receipt": {...}, "jws": "..."}``, exactly what ``csins-adapter receipts verify`` checks),
``GET /api/v1/incidents/{id}/receipts.zip`` bundles an incident's receipt files with the JWKS and a
README, and ``/.well-known/jwks.json`` publishes every signing key, old and new, without a key.

Receipts are read by ``compliance`` and ``admin`` keys, within their LA (an all-LA admin sees every
LA): another LA's receipt or incident answers 404. Every download is written to the audit log.

The signing keyring is the web app's own resource, read on first use from the same settings the
worker reads (:func:`adapter.receipts.log.signer_for`), so both publish and sign with the same keys.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Sequence
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from adapter.api.auth import principal, requires
from adapter.api.bodies import MAX_CURSOR_CHARS
from adapter.api.spec import BAD_CURSOR, problem_responses
from adapter.clock import utcnow
from adapter.deadlines import start_of_day
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.log import (
    get_receipt,
    incident_receipts,
    list_receipts,
    receipts_cursor_sequence,
    signed,
)
from adapter.store import audit_log
from adapter.store import incidents as incident_store
from adapter.store.errors import InvalidCursor
from adapter.store.models import IncidentRow
from adapter.store.receipt_models import ReceiptRow
from schemas.api import (
    JwksSchema,
    ReceiptFileSchema,
    ReceiptListSchema,
    ReceiptQuerySchema,
)

RECEIPT_READERS = ("compliance", "admin")
"""Roles that may list and download receipts (DESIGN.md §7: compliance reads receipts)."""

JWKS_MAX_AGE_SECONDS = 300
"""How long (seconds) a client may cache ``/.well-known/jwks.json``."""

JWKS_MEDIA_TYPE = "application/jwk-set+json"
"""The JWK Set media type (RFC 7517 §8.5)."""


blp = Blueprint(
    "receipts",
    __name__,
    description="Signed delivery receipts, the incident receipt archive, and the public keys",
)


def signer() -> SigningKeyring:
    """The current app's signing keyring, loaded from the configured key files on first use.

    Restart the web processes after ``receipts new-key`` to publish the new key (as the workers
    are restarted to sign with it).
    """
    return resources().signer()


def receipt_item(row: ReceiptRow) -> dict[str, Any]:
    """A receipt as a list item: the stored columns, not the signed file."""
    return {
        "id": row.id,
        "sequence": row.sequence,
        "delivery_id": row.delivery_id,
        "incident_id": row.incident_id,
        "local_authority_code": row.la_code,
        "document": row.document,
        "addressee": row.addressee,
        "on_time": row.on_time,
        "acknowledged_at": row.acknowledged_at,
    }


def receipt_filename(row: ReceiptRow) -> str:
    """The receipt file's name: log order first, so a folder of them lists in sequence."""
    return f"receipt-{row.sequence:06d}-{row.id}.json"


@blp.route("/api/v1/receipts", methods=["GET"])
@blp.arguments(ReceiptQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ReceiptListSchema)
@problem_responses(BAD_CURSOR)
@requires(*RECEIPT_READERS)
def list_receipts_view(
    incident: str | None,
    addressee: str | None,
    document: str | None,
    acknowledged_from: dt.date | None,
    acknowledged_to: dt.date | None,
    cursor: str | None,
    limit: int | None,
) -> Any:
    """Receipts of the caller's LA in log order (filters: incident, addressee, document, from, to).

    ``from`` and ``to`` are days in Europe/London, both included, on the acknowledgement time.
    """
    if acknowledged_from and acknowledged_to and acknowledged_from > acknowledged_to:
        raise ApiProblem(
            422,
            "validation",
            "The request parameters failed validation; see errors.",
            field_errors=[("to", "must not be before 'from'")],
        )
    with resources().transaction() as session:
        page = list_receipts(
            session,
            principal().la_scope,
            incident_id=incident,
            addressee=addressee,
            document=document,
            acknowledged_from=start_of_day(acknowledged_from) if acknowledged_from else None,
            acknowledged_before=(
                start_of_day(acknowledged_to + dt.timedelta(days=1)) if acknowledged_to else None
            ),
            cursor=checked_receipts_cursor(cursor),
            limit=limit,
        )
        return {"items": [receipt_item(row) for row in page.items], "next": page.next}


def checked_receipts_cursor(cursor: str | None) -> str | None:
    """``cursor`` when the receipts list could have issued it, else a 400 ``bad-cursor`` problem.

    The receipts list's counterpart of :func:`adapter.api.bodies.checked_cursor` (whose keys are
    pairs; a receipts cursor holds the sequence number alone): the same length limit, then the
    same decoding and a sequence number the database can hold, before any query runs.
    """
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not one this service issued")
    receipts_cursor_sequence(cursor)
    return cursor


@blp.route("/api/v1/receipts/<receipt_id>", methods=["GET"])
@blp.response(200, ReceiptFileSchema)
@problem_responses((404, "No such receipt visible to this key"))
@requires(*RECEIPT_READERS)
def get_receipt_view(receipt_id: str) -> Response:
    """One receipt file: the readable receipt and its JWS, to verify offline against the JWKS."""
    who = principal()
    with resources().transaction() as session:
        row = get_receipt(session, who.la_scope, receipt_id)
        if row is None:
            raise ApiProblem(404, "not-found", f"no receipt {receipt_id} is visible to this key")
        body = signed(row).to_json()
        filename = receipt_filename(row)
        audit_log.audit_by(
            session,
            who,
            "receipt.downloaded",
            la_code=row.la_code,
            object_type="receipt",
            object_id=row.id,
            detail={"format": "json", "via": "api", "sequence": row.sequence},
        )
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@blp.route("/api/v1/incidents/<incident_id>/receipts.zip", methods=["GET"])
@blp.response(
    200,
    description="A zip of the incident's receipt files, jwks.json and README.txt",
    content_type="application/zip",
)
@problem_responses((404, "No such incident visible to this key"))
@requires(*RECEIPT_READERS)
def incident_receipts_zip(incident_id: str) -> Response:
    """Every receipt of one incident as files, with the JWKS and how to verify them (README)."""
    who = principal()
    keys = signer().jwks()
    with resources().transaction() as session:
        incident = incident_store.get_incident(session, who.la_scope, incident_id)
        if incident is None:
            raise ApiProblem(404, "not-found", f"no incident {incident_id} is visible to this key")
        rows = incident_receipts(session, who.la_scope, incident.id)
        archive = receipts_archive(incident, rows, keys, made_at=utcnow())
        audit_log.audit_by(
            session,
            who,
            "receipts.zip.downloaded",
            la_code=incident.la_code,
            object_type="incident",
            object_id=incident.id,
            detail={"receipts": len(rows), "sequences": [row.sequence for row in rows]},
        )
        filename = f"receipts-{_safe(incident.la_code)}-{_safe(incident.reference)}.zip"
    return Response(
        archive,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@blp.route("/.well-known/jwks.json", methods=["GET"])
@blp.response(200, JwksSchema, content_type=JWKS_MEDIA_TYPE)
@blp.doc(security=[])
def jwks() -> Response:
    """The receipt signing keys (RFC 7517 JWKS of RFC 8037 Ed25519 keys), rotated-out ones too.

    Public: anyone verifying a receipt needs it. Each ``kid`` is the key's RFC 7638 thumbprint.
    """
    return Response(
        json.dumps(signer().jwks(), indent=2) + "\n",
        mimetype=JWKS_MEDIA_TYPE,
        headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE_SECONDS}"},
    )


def receipts_archive(
    incident: IncidentRow,
    rows: Sequence[ReceiptRow],
    jwks_document: dict[str, Any],
    *,
    made_at: dt.datetime,
) -> bytes:
    """The zip: one file per receipt (as ``GET /receipts/{id}`` answers it), jwks.json, README."""
    stamp = made_at.astimezone(dt.UTC)
    names = [receipt_filename(row) for row in rows]
    files = [
        ("README.txt", readme(incident, names, stamp)),
        ("jwks.json", json.dumps(jwks_document, indent=2) + "\n"),
        *((name, signed(row).to_json()) for name, row in zip(names, rows, strict=True)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files:
            entry = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return buffer.getvalue()


def readme(incident: IncidentRow, names: Sequence[str], made_at: dt.datetime) -> str:
    """README.txt of the archive: what the files are and two ways to verify them."""
    example = names[0] if names else "receipt-000001-<id>.json"
    listing = "\n".join(f"  {name}" for name in names) or "  (none: nothing acknowledged yet)"
    return _README.format(
        reference=incident.reference,
        la_code=incident.la_code,
        count=len(names),
        made_at=made_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        listing=listing,
        example=example,
    )


def _safe(text: str) -> str:
    """``text`` reduced to characters safe in a download's file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "incident"


_README = """\
Delivery receipts of incident {reference} (local authority {la_code})
{count} receipt(s), archived {made_at} by csins-adapter.

Each receipt file proves that one document was delivered to one national body, what exactly was
sent and when the body acknowledged it. Two hashes say what was sent: document_sha256, of the
document itself (an uploaded file's own bytes: compare it with sha256sum of the file you hold;
the envelope sent carries the same value as its payload_sha256), and the receipt's
payload_sha256, of the whole message sent (the request body, or the email). Receipts of version
"1", issued before document_sha256, have payload_sha256 only. jwks.json
holds the public keys of the deployment that signed them, as it publishes them at
/.well-known/jwks.json. To rely on these receipts, check that those keys are the deployment's
from a source you trust (for example, ask the local authority for its JWKS).

{listing}

1. With csins-adapter (pip install csins-adapter):

     csins-adapter receipts verify {example} --jwks jwks.json

   or every file at once:

     for f in receipt-*.json; do csins-adapter receipts verify "$f" --jwks jwks.json; done

   It prints "valid: ..." and exits 0, or prints "invalid: <reason>" and exits 1.

2. With any JOSE library (JWS RFC 7515, EdDSA RFC 8037, JWKS RFC 7517, JSON RFC 8785).
   A receipt file is {{"receipt": {{...}}, "jws": "..."}}. It is valid when:
   a. "jws" verifies, with alg EdDSA only, under the key of jwks.json whose "kid" its header names;
   b. the JWS payload is byte for byte the RFC 8785 canonical form of "receipt";
   c. "receipt"."version" is "2" (or "1", for a receipt issued before document_sha256).

   Python (pip install jwcrypto rfc8785):

     import json, pathlib, rfc8785
     from jwcrypto import jwk, jws
     keys = jwk.JWKSet.from_json(pathlib.Path("jwks.json").read_text())
     receipt = json.loads(pathlib.Path("{example}").read_text())
     token = jws.JWS()
     token.deserialize(receipt["jws"])
     token.verify(keys.get_key(token.jose_header["kid"]), alg="EdDSA")  # raises if invalid
     assert token.payload == rfc8785.dumps(receipt["receipt"]), "readable copy altered"

Receipts carry their place in the deployment's log ("sequence") and the SHA-256 of the JWS of the
receipt before it ("previous_receipt_sha256"), so the operator's audit
(csins-adapter receipts audit) shows that none was removed, reordered or rewritten.
"""
