"""A rapid review goes by e-mail (DESIGN.md §6): a real worker sends it through a local SMTP relay
that requires STARTTLS under a test CA, and the receipt it earns verifies with the CLI."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from adapter.cli import main
from tests.delivery.helpers import free_port
from tests.delivery.test_smtp import Mailbox
from tests.delivery.test_tls import private_ca  # noqa: F401 (a fixture)
from tests.e2e.conftest import ADDRESSEES, POLICY_YAML, Stack, addressees_yaml, make_record
from tests.store.factories import make_event

PDF = b"%PDF-1.7 rapid review of the incident\n"


@pytest.fixture
def relay(private_ca) -> Iterator[tuple[Mailbox, int, Path]]:  # noqa: F811
    ca_file, context = private_ca
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield mailbox, port, ca_file
    finally:
        controller.stop()


@pytest.fixture
def config_dir(tmp_path: Path, relay: tuple[Mailbox, int, Path]) -> Path:
    """Notifications to the sandbox; the Panel's rapid review by e-mail through the relay."""
    _, port, ca_file = relay
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "policy.yaml").write_text(POLICY_YAML, encoding="utf-8")
    smtp = (
        "  routes: {rapid_review: smtp}\n"
        "  smtp:\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        "    tls: starttls\n"
        f"    ca_bundle: {ca_file}\n"
        "    from: safeguarding@la.example.gov.uk\n"
        "    to: [reviews@panel.example.gov.uk]\n"
        "    timeout_seconds: 5\n"
    )
    text = addressees_yaml()
    first_other = text.index(f"{ADDRESSEES[1]}:\n")
    panel, others = text[:first_other], text[first_other:]
    (folder / "addressees.yaml").write_text(panel + smtp + others, encoding="utf-8")
    return folder


def record_rapid_review(stack: Stack) -> tuple[str, list[str]]:
    """Notify (to the sandbox), then record a rapid review: the incident's id and the ids of its
    rapid-review deliveries, for the caller to count."""
    key = stack.key()
    notifications = stack.submit(make_record())
    stack.start_worker()
    stack.wait_acknowledged(notifications)
    incident_id = stack.deliveries(notifications)[0].incident_id
    response = stack.client.post(
        f"/api/v1/incidents/{incident_id}/events",
        json=make_event("rapid_review_completed", on="2026-11-26", document=PDF),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.get_json()
    reviews = [
        d.id
        for d in stack.deliveries(stack.delivery_ids(incident_id))
        if d.document == "rapid_review"
    ]
    return incident_id, reviews


def post_rapid_review(stack: Stack) -> str:
    """Notify (to the sandbox), then record a rapid review; the id of its e-mail delivery."""
    _, [review] = record_rapid_review(stack)
    return review


def test_a_refusal_5xx_fails_the_delivery_and_alerts(
    stack: Stack, relay: tuple[Mailbox, int, Path]
) -> None:
    mailbox, _, _ = relay
    mailbox.data_replies = ["554 5.7.1 Message refused by policy"]
    review = post_rapid_review(stack)
    [failed] = stack.wait_status([review], "failed")
    assert failed.last_error == "554 DATA: 554 5.7.1"
    assert [a.object_id for a in stack.alerts("delivery_failed")] == [review]
    assert mailbox.accepted == []


def test_a_temporary_failure_4xx_is_retried_until_accepted(
    stack: Stack, relay: tuple[Mailbox, int, Path]
) -> None:
    mailbox, _, _ = relay
    mailbox.data_replies = ["451 4.3.0 Try again later"]
    review = post_rapid_review(stack)
    [delivered] = stack.wait_acknowledged([review])
    assert delivered.attempts == 2
    assert [a.outcome for a in stack.attempts(review)] == ["transient", "acknowledged"]
    assert len(mailbox.accepted) == 1


def test_a_rapid_review_by_email_earns_a_receipt_that_verifies(
    stack: Stack, relay: tuple[Mailbox, int, Path], tmp_path: Path
) -> None:
    mailbox, _, _ = relay
    incident_id, reviews = record_rapid_review(stack)
    assert len(reviews) == 1
    [delivered] = stack.wait_acknowledged(reviews)
    assert delivered.channel == "smtp"

    [received] = mailbox.accepted
    message = email.message_from_bytes(received.original_content, policy=email.policy.default)
    assert message["Message-ID"] == delivered.addressee_reference
    assert "E2E-" in message["Subject"] and "Example" not in message["Subject"]
    document, record = list(message.iter_attachments())
    assert (document.get_content_type(), document.get_content()) == ("application/pdf", PDF)
    assert json.loads(record.get_content())["delivery_id"] == delivered.id

    compliance = stack.key("compliance")
    receipts = stack.client.get(
        "/api/v1/receipts",
        query_string={"incident": incident_id, "document": "rapid_review"},
        headers={"Authorization": f"Bearer {compliance}"},
    ).get_json()["items"]
    assert len(receipts) == 1
    download = stack.client.get(
        f"/api/v1/receipts/{receipts[0]['id']}",
        headers={"Authorization": f"Bearer {compliance}"},
    )
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_bytes(download.data)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(stack.client.get("/.well-known/jwks.json").data)
    verified = CliRunner().invoke(
        main, ["receipts", "verify", str(receipt_file), "--jwks", str(jwks_file)]
    )
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("valid: receipt ")

    content = json.loads(download.data)["receipt"]
    assert content["channel"] == "smtp"
    assert content["acknowledged_by"] == "mail_relay"
    assert content["addressee_status"] == "250 2.0.0"
    assert content["addressee_reference"] == message["Message-ID"]
    assert content["document_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert content["payload_sha256"] == hashlib.sha256(received.original_content).hexdigest()
    assert "what SMTP can prove" in content["acknowledgement"]
