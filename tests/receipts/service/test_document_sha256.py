"""``document_sha256``: a receipt hashes the document itself, as its addressee and the LA can (§6).

"Events that produce a document ... carry it ...; the deliveries they cause send exactly those
bytes, and the receipt hashes them" (DESIGN.md §7). A receipt's ``document_sha256`` is the hash
of the uploaded file, or of a notification's RFC 8785 canonical JSON: the value the envelope
carries as its own ``payload_sha256`` (an email as ``X-Csins-Payload-Sha256``). Its
``payload_sha256`` stays the hash of the whole message on the wire. Every case runs through the
whole service: the API, the worker, a real addressee (the sandbox receiver or an SMTP relay), the
receipts API, the compliance page and the CLI. Receipts of version 1, issued before
``document_sha256``, still verify and audit in the same log.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import rfc8785
from aiosmtpd.controller import Controller
from sqlalchemy import select

from adapter.delivery import check_envelope
from adapter.receipts import SignedReceipt, SigningKeyring, build_receipt, sign_receipt
from adapter.receipts import log as receipt_log
from adapter.sandbox import server as sandbox_server
from adapter.store.receipt_models import ReceiptRow
from tests.delivery.helpers import free_port
from tests.receipts.service.conftest import (
    acknowledged,
    audit,
    cli,
    deliver_what_redis_lost,
    download,
    make_record,
    read_file,
    restart,
    save_jwks,
    signing_keyring,
    sql,
)
from tests.receipts.test_versions import release_1_fields
from tests.support.service import Service
from tests.web.conftest import sign_in

PDF = b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\r\n"
"""A rapid review as the LA uploads it: binary, CRLF line ends, bytes that are not UTF-8."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class Received:
    """What an addressee got for one delivery."""

    envelope: dict[str, Any]
    """The JSON envelope (DESIGN.md §6), as the addressee parsed it."""
    wire_sha256: str
    """SHA-256 of the whole message as it arrived: the request body, or the email."""
    files: dict[str, bytes] = dataclasses.field(default_factory=dict)
    """Files attached besides the envelope (smtp), by name."""
    header_sha256: str | None = None
    """The email's ``X-Csins-Payload-Sha256`` (smtp)."""


class SandboxAddressees:
    """The sandbox receiver every addressee points at, keeping each envelope it accepted."""

    channel = "sandbox"

    def __init__(self, service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
        self.service = service
        self.envelopes: dict[str, dict[str, Any]] = {}

        def keeping(body: bytes) -> dict[str, Any]:
            envelope = check_envelope(body)
            self.envelopes[envelope["delivery_id"]] = envelope
            return envelope

        monkeypatch.setattr(sandbox_server, "check_envelope", keeping)

    def received(self, delivery: dict[str, Any]) -> Received:
        addressee = self.service.sandbox.state.stats()["addressees"][delivery["addressee"]]
        got = addressee["received"][delivery["id"]]
        return Received(self.envelopes[delivery["id"]], got["sha256"])


class SmtpAddressees:
    """An SMTP relay on 127.0.0.1 that every addressee's mail goes to, keeping what it accepts."""

    channel = "smtp"

    def __init__(self) -> None:
        self.messages: dict[str, tuple[bytes, EmailMessage]] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages[str(message["X-Csins-Delivery-Id"])] = (content, message)
        return "250 2.0.0 Ok: queued"

    def received(self, delivery: dict[str, Any]) -> Received:
        content, message = self.messages[delivery["id"]]
        files = {
            str(part.get_filename()): part.get_content() for part in message.iter_attachments()
        }
        envelope = json.loads(files.pop(f"{delivery['document']}-{delivery['id']}.json"))
        header = str(message["X-Csins-Payload-Sha256"])
        return Received(envelope, sha256(content), files, header)


def use_smtp(service: Service, port: int) -> None:
    """Every addressee by email through the relay on ``port`` (``config/addressees.yaml``)."""
    addressees = {
        name: {
            "name": entry.get("name", name),
            "channel": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "tls": "none",
            "from": "csins@la.example.gov.uk",
            "to": [f"{name}@national.example.gov.uk"],
            "timeout_seconds": 5,
        }
        for name, entry in service.settings.addressees.items()
    }
    settings = dataclasses.replace(service.settings, addressees=addressees)
    service.settings = settings
    service.app.extensions["csins"].settings = settings
    restart(service)


@pytest.fixture(params=["sandbox", "smtp"])
def addressees(
    request: pytest.FixtureRequest, service: Service, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SandboxAddressees | SmtpAddressees]:
    """The addressees, reached through the channel of the test's parameter."""
    if request.param == "sandbox":
        yield SandboxAddressees(service, monkeypatch)
        return
    relay = SmtpAddressees()
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        use_smtp(service, controller.port)
        yield relay
    finally:
        controller.stop()


def work(service: Service, deliveries: list[dict[str, Any]]) -> None:
    """Run the worker until ``deliveries`` are acknowledged."""
    service.work()
    deliver_what_redis_lost(service, [delivery["id"] for delivery in deliveries])


Sent = tuple[list[dict[str, Any]], Callable[[Received], bytes]]
"""The deliveries a case caused, and the document bytes each one's addressee should hash."""


def notification(service: Service) -> Sent:
    """A notification the service writes as JSON: the document is its canonical payload."""
    incident = acknowledged(service, make_record(looked_after=True))
    return incident["deliveries"], lambda received: rfc8785.dumps(received.envelope["payload"])


def uploaded_pdf(service: Service) -> Sent:
    """A rapid review the LA uploads as a PDF file (multipart): the document is the file."""
    incident = acknowledged(service, make_record())
    response = service.client.post(
        f"/api/v1/incidents/{incident['id']}/events",
        data={
            "type": "rapid_review_completed",
            "on": "2026-11-26",
            "document": (io.BytesIO(PDF), "rapid-review.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
        headers=service.headers(service.key("local_authority")),
    )
    assert response.status_code == 201, response.get_json()
    deliveries: list[dict[str, Any]] = response.get_json()["deliveries"]
    assert deliveries and {delivery["document"] for delivery in deliveries} == {"rapid_review"}
    work(service, deliveries)
    return deliveries, lambda received: PDF


def receipt_of(service: Service, key: str, delivery: dict[str, Any]) -> dict[str, Any]:
    """The receipt of ``delivery`` as ``GET /api/v1/receipts/{id}`` answers it."""
    items = service.get("/api/v1/receipts", key, limit=100).get_json()["items"]
    (item,) = [item for item in items if item["delivery_id"] == delivery["id"]]
    response = service.get(f"/api/v1/receipts/{item['id']}", key)
    receipt: dict[str, Any] = response.get_json()["receipt"]
    return receipt


@pytest.mark.parametrize("case", [notification, uploaded_pdf], ids=["json", "uploaded-pdf"])
def test_the_receipt_hashes_the_document_the_addressee_received(
    service: Service, addressees: SandboxAddressees | SmtpAddressees, case: Callable[..., Sent]
) -> None:
    deliveries, document_of = case(service)
    key = service.key("compliance")
    for delivery in deliveries:
        receipt = receipt_of(service, key, delivery)
        received = addressees.received(delivery)
        document = document_of(received)

        assert receipt["version"] == "3"
        assert receipt["channel"] == addressees.channel
        assert receipt["document_sha256"] == sha256(document), delivery["addressee"]
        assert receipt["document_sha256"] == received.envelope["payload_sha256"]
        if received.header_sha256 is not None:  # smtp: the header and the attached file too
            assert received.header_sha256 == receipt["document_sha256"]
            # The document itself is attached, in its own bytes, beside the envelope.
            assert list(received.files.values()) == [document]
        # The whole message on the wire is still what payload_sha256 hashes.
        assert receipt["payload_sha256"] == received.wire_sha256
        assert receipt["payload_sha256"] != receipt["document_sha256"]


def issued_by_release_1(
    facts: Any,
    *,
    sequence: int,
    previous_receipt_sha256: str,
    keyring: SigningKeyring,
    **options: Any,
) -> SignedReceipt:
    """``issue_receipt`` as the release before version 2 had it: no ``document_sha256``."""
    content = build_receipt(
        facts, sequence=sequence, previous_receipt_sha256=previous_receipt_sha256, **options
    )
    for name in ("document_sha256", "acknowledged_by", "confirmed_by", "acknowledgement"):
        del content[name]
    content["version"] = "1"
    assert set(content) == release_1_fields()
    return sign_receipt(content, keyring)


def mixed_log(service: Service, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Receipt #1 issued by the release before version 2, #2 by this one: their list items."""
    with monkeypatch.context() as patched:
        patched.setattr(receipt_log, "issue_receipt", issued_by_release_1)
        acknowledged(service, make_record("NEL-2026-014"))
    acknowledged(service, make_record("NEL-2026-015"))
    items: list[dict[str, Any]] = service.get(
        "/api/v1/receipts", service.key("compliance")
    ).get_json()["items"]
    return items


def test_a_log_of_old_and_new_receipts_verifies_and_audits(service, tmp_path, monkeypatch):
    old, new = mixed_log(service, monkeypatch)
    key = service.key("compliance")
    jwks = save_jwks(service, tmp_path / "jwks.json")
    files = [
        download(service, key, item["id"], tmp_path / f"{item['id']}.json") for item in (old, new)
    ]
    assert [read_file(path).content["version"] for path in files] == ["1", "3"]
    assert "document_sha256" not in read_file(files[0]).content

    for path, item in zip(files, (old, new), strict=True):
        code, out, err = cli("verify", path, "--jwks", jwks)
        assert (code, err) == (0, "")
        assert out.startswith(f"valid: receipt {item['id']} #{item['sequence']} ")
    assert audit(service) == (0, "intact: 2 receipts, 0 checkpoints\n", "")
    assert audit(service, "--jwks", jwks)[:2] == (0, "intact: 2 receipts, 0 checkpoints\n")


def test_the_compliance_page_shows_the_document_hash(service, monkeypatch):
    old, new = mixed_log(service, monkeypatch)
    browser = service.app.test_client()
    assert sign_in(browser, service.key("compliance")).status_code == 302
    pages = {}
    for item in (old, new):
        page = browser.get(f"/admin/receipts/{item['id']}").get_data(as_text=True)
        assert "The signature is valid" in page
        pages[item["id"]] = page
    content = receipt_of(service, service.key("compliance"), {"id": new["delivery_id"]})
    assert "SHA-256 of the document" in pages[new["id"]]
    assert content["document_sha256"] in pages[new["id"]]
    assert content["payload_sha256"] in pages[new["id"]]
    assert "Not recorded: a version 1 receipt" in pages[old["id"]]


def changed_hash(content: dict[str, Any]) -> dict[str, Any]:
    value = content["document_sha256"]
    return {**content, "document_sha256": value[:-1] + ("0" if value[-1] != "0" else "1")}


def passed_off_as_version_1(content: dict[str, Any]) -> dict[str, Any]:
    """The hash dropped and the version lowered, as if the receipt never had one."""
    old = {key: value for key, value in content.items() if key != "document_sha256"}
    return {**old, "version": "1"}


def swapped_hashes(content: dict[str, Any]) -> dict[str, Any]:
    return {
        **content,
        "document_sha256": content["payload_sha256"],
        "payload_sha256": content["document_sha256"],
    }


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (changed_hash, "invalid: altered field 'document_sha256': the readable copy says "),
        (passed_off_as_version_1, "invalid: altered field 'document_sha256': missing from"),
        (swapped_hashes, "invalid: altered field 'document_sha256'"),
    ],
    ids=["changed", "passed-off-as-version-1", "swapped-with-payload-sha256"],
)
def test_an_altered_document_hash_fails_verification(service, tmp_path, tamper, reason):
    incident = acknowledged(service)
    key = service.key("compliance")
    (item,) = service.get("/api/v1/receipts", key).get_json()["items"]
    assert item["delivery_id"] == incident["deliveries"][0]["id"]
    genuine = read_file(download(service, key, item["id"], tmp_path / "receipt.json"))
    path = tmp_path / "tampered.json"
    path.write_text(SignedReceipt(tamper(genuine.content), genuine.jws).to_json())

    code, out, err = cli("verify", path, "--jwks", save_jwks(service, tmp_path / "jwks.json"))

    assert (code, out) == (1, "")
    assert err.startswith(reason), err


def test_a_stored_receipt_resigned_with_another_document_hash_breaks_the_audit(service):
    """Someone with the database and the signing key rewrites receipt #1's document hash."""
    acknowledged(service, make_record("NEL-2026-014"))
    acknowledged(service, make_record("NEL-2026-015"))
    with service.database.session_scope() as session:
        jws = session.scalars(select(ReceiptRow.jws).where(ReceiptRow.sequence == 1)).one()
    forged = sign_receipt(
        changed_hash(SignedReceipt.from_jws(jws).content), signing_keyring(service)
    )
    sql(
        service,
        "UPDATE receipts SET jws = :jws, chain_hash = :hash WHERE sequence = 1",
        jws=forged.jws,
        hash=forged.chain_hash,
    )

    code, out, err = audit(service)

    assert (code, out) == (1, "")
    assert err.startswith("broken at #2 (link): previous_receipt_sha256 of receipt #2"), err
