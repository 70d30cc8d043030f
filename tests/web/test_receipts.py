"""Receipts: verified as listed, downloaded as the signed file, printed, and audited."""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapter.clock import london_today
from adapter.receipts import DeliveryFacts, SignedReceipt, SigningKeyring, verify_receipt
from adapter.receipts.log import append_receipt
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from adapter.web.pages_receipts import public_keys
from tests.web.conftest import World
from tests.web.test_queues import plain, text


def receipts_of(world: World, la: str) -> list[ReceiptRow]:
    with world.service.database.session_scope() as session:
        return session.query(ReceiptRow).filter_by(la_code=la).order_by(ReceiptRow.sequence).all()


def forge_receipt(world: World, la: str) -> ReceiptRow:
    """A receipt for LA ``la``'s failed delivery, signed with a key the service never had."""
    stranger = SigningKeyring(Ed25519PrivateKey.generate())
    now = dt.datetime.now(dt.UTC)
    with world.service.database.session_scope() as session:
        delivery = session.query(DeliveryRow).filter_by(la_code=la, status="failed").one()
        facts = DeliveryFacts(
            delivery_id=delivery.id,
            document=delivery.document,
            addressee=delivery.addressee,
            incident_reference=world.incidents[la][0].reference,
            local_authority_code=la,
            document_sha256=delivery.payload_sha256,
            payload_sha256=delivery.payload_sha256,
            channel="sandbox",
            destination="http://127.0.0.1:1/ofsted",
            attempts=1,
            first_attempt_at=now,
            acknowledged_at=now,
            addressee_status="202",
            addressee_reference=None,
            due_on=now.date(),
        )
        return append_receipt(session, stranger, facts, incident_id=delivery.incident_id)


def test_receipts_are_listed_verified_and_scoped(world: World) -> None:
    page = text(world.client("compliance", "812").get("/admin/receipts"))
    assert page.count("Verified</strong>") == 2 and "Not verified" not in page
    assert "On time" in page
    assert world.incidents["812"][0].reference in page
    assert world.incidents["813"][0].reference not in page
    everything = text(world.client("admin", "*").get("/admin/receipts"))
    assert everything.count("Verified</strong>") == 4


def test_a_receipt_signed_with_an_unknown_key_is_shown_as_not_verified(world: World) -> None:
    forge_receipt(world, "812")
    page = text(world.client("compliance").get("/admin/receipts"))
    assert page.count("Verified</strong>") == 2
    assert "Not verified</strong>" in page and "unknown key" in page.lower()


def test_receipts_filter_by_addressee_document_and_date(world: World) -> None:
    client = world.client("admin", "*")
    page = plain(text(client.get("/admin/receipts?addressee=panel")))
    assert page.count("to Child Safeguarding Practice Review Panel") == 2
    assert "Secretary of State" not in page.split("Receipts in log order")[1]
    page = text(client.get("/admin/receipts?document=rapid_review"))
    assert "No receipts match" in page
    today = london_today()
    assert "No receipts match" in text(client.get(f"/admin/receipts?to={today - dt.timedelta(2)}"))
    page = text(client.get(f"/admin/receipts?from={today - dt.timedelta(1)}&to={today}"))
    assert page.count("Verified</strong>") == 4


def test_a_wrong_date_is_reported_next_to_its_field(world: World) -> None:
    page = text(world.client("admin").get("/admin/receipts?from=31/11/2026"))
    assert "<title>Error: Receipts" in page and "There is a problem" in page
    assert 'href="#filter-from"' in page and "must be a real date" in page
    assert page.count("Verified</strong>") == 2  # the filter is not applied


def test_receipts_are_paginated_and_a_malformed_cursor_is_a_clear_error(world: World) -> None:
    client = world.client("admin", "*")
    first = text(client.get("/admin/receipts?limit=3"))
    assert first.count("Verified</strong>") == 3
    next_link = re.search(r'href="([^"]+cursor=[^"]+)"', first)
    assert next_link and "limit=3" in next_link.group(1)
    assert text(client.get(html.unescape(next_link.group(1)))).count("Verified</strong>") == 1
    for raw in (
        '["receipts","abc"]',
        f'["receipts",{2**70}]',
        f'["receipts",{2**63}]',
        '["receipts",0]',
        '["receipts",true]',
        '["audit",1]',
        "[" * 5000,
    ):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        response = client.get(f"/admin/receipts?cursor={cursor}")
        assert response.status_code == 400, raw[:40]
        assert "That page link is not valid" in response.get_data(as_text=True)


def test_a_receipt_downloads_as_the_signed_file_and_it_is_audited(world: World) -> None:
    receipt = receipts_of(world, "812")[0]
    response = world.client("compliance").get(f"/admin/receipts/{receipt.id}/download")
    assert response.status_code == 200 and response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="receipt-{receipt.sequence:06d}-{receipt.id}.json"'
    document = json.loads(response.get_data(as_text=True))
    assert set(document) == {"receipt", "jws"}
    with world.service.app.app_context():
        keys = public_keys()
    verified = verify_receipt(SignedReceipt(document["receipt"], document["jws"]), keys)
    assert verified.content["receipt_id"] == receipt.id
    with world.service.database.session_scope() as session:
        line = session.query(AuditEntryRow).filter_by(action="receipt.downloaded").one()
        assert (line.object_id, line.actor_role, line.detail) == (
            receipt.id,
            "compliance",
            {"format": "json", "sequence": receipt.sequence},
        )


def test_the_printable_page_shows_what_the_receipt_attests(world: World) -> None:
    receipt = receipts_of(world, "812")[0]
    page = text(world.client("compliance").get(f"/admin/receipts/{receipt.id}"))
    words = plain(page)
    assert "The signature is valid" in words and "Verified" in words
    assert receipt.jws in page
    assert world.incidents["812"][0].reference in words
    assert "SHA-256 of what was sent" in words and "Due by" in words
    assert "Print this receipt" in words and "@media print" not in page
    with world.service.database.session_scope() as session:
        line = session.query(AuditEntryRow).filter_by(action="receipt.downloaded").one()
        assert line.detail == {"format": "page", "sequence": receipt.sequence}


def test_a_forged_receipt_page_says_not_to_rely_on_it(world: World) -> None:
    forged = forge_receipt(world, "812")
    page = plain(text(world.client("admin").get(f"/admin/receipts/{forged.id}")))
    assert "Not verified" in page and "Do not rely on this receipt" in page


def test_another_las_receipt_is_not_found(world: World) -> None:
    theirs = receipts_of(world, "813")[0]
    client = world.client("compliance", "812")
    assert client.get(f"/admin/receipts/{theirs.id}").status_code == 404
    assert client.get(f"/admin/receipts/{theirs.id}/download").status_code == 404
    with world.service.database.session_scope() as session:
        assert session.query(AuditEntryRow).filter_by(action="receipt.downloaded").count() == 0


def test_the_checkpoints_kept_outside_the_database_download_from_the_receipts_page(
    world: World,
) -> None:
    """Issue 19: the witness file, linked from the receipts page, downloaded and audited."""
    from adapter.receipts.log import signer_for
    from adapter.receipts.witness import checkpoint_and_witness, read_checkpoints, witness_path

    service = world.service
    path = witness_path(service.settings)
    checkpoint_and_witness(service.database, signer_for(service.settings), path)
    client = world.client("compliance", "812")
    page = text(client.get("/admin/receipts"))
    assert "/admin/receipts/checkpoints" in page
    response = client.get("/admin/receipts/checkpoints")
    assert response.status_code == 200
    assert response.data == path.read_bytes() and response.data.count(b"\n") == 1
    assert read_checkpoints(path)[0].content["size"] == 4
    with service.database.session_scope() as session:
        entry = (
            session.query(AuditEntryRow).filter_by(action="receipt_checkpoints.downloaded").one()
        )
        assert (entry.la_code, entry.actor_role) == ("812", "compliance")
