"""The smtp channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from adapter.delivery import OutcomeKind, QuickRetry, SmtpChannel, encode_envelope
from adapter.delivery.smtp import TlsMode
from tests.delivery.helpers import (
    Sleeps,
    free_port,
    make_delivery,
    quick,
    uploaded_document_payload,
)
from tests.delivery.test_tls import private_ca  # noqa: F401 (a fixture)


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and can be told to refuse."""

    def __init__(self) -> None:
        self.accepted: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self.data_replies: list[str] = []
        self.quit_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        return self.quit_reply or "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.accepted.append(envelope)
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def smtp_channel(
    port: int, *, tls: TlsMode = "none", retry: QuickRetry | None = None
) -> SmtpChannel:
    return SmtpChannel(
        "ofsted",
        host="127.0.0.1",
        port=port,
        tls=tls,
        sender="csins@la.example.gov.uk",
        recipients=["notifications@ofsted.example.gov.uk", "duty@ofsted.example.gov.uk"],
        timeout=5.0,
        retry=retry or quick(1),
    )


def test_accepted_mail_is_acknowledged_with_our_message_id(mailbox):
    handler, port = mailbox
    delivery = make_delivery(addressee="ofsted")
    outcome = smtp_channel(port).send(delivery)
    assert (outcome.kind, outcome.status) == (OutcomeKind.ACKNOWLEDGED, 250)
    assert outcome.reference == "<csins.dlv_01JD0000000000000000000001@la.example.gov.uk>"
    assert outcome.destination == (
        "mailto:notifications@ofsted.example.gov.uk,duty@ofsted.example.gov.uk"
    )
    [received] = handler.accepted
    assert received.rcpt_tos == [
        "notifications@ofsted.example.gov.uk",
        "duty@ofsted.example.gov.uk",
    ]
    message = email.message_from_bytes(received.original_content, policy=email.policy.default)
    assert message["Message-ID"] == outcome.reference
    document, envelope = list(message.iter_attachments())
    assert document.get_filename() == "incident_notification.json"
    assert document.get_content_type() == "application/json"
    assert hashlib.sha256(document.get_content()).hexdigest() == delivery.payload_sha256
    assert envelope.get_filename() == "incident_notification-dlv_01JD0000000000000000000001.json"
    assert envelope.get_content() == encode_envelope(delivery)


@pytest.mark.parametrize("quit_reply", ["421 4.3.2 shutting down", "554 5.0.0 bye"])
def test_the_reply_to_data_is_the_acknowledgement_whatever_quit_gets(mailbox, quit_reply):
    """The relay accepted the message (250 after DATA); what it answers to QUIT afterwards
    neither sends it again nor fails a delivered document."""
    handler, port = mailbox
    handler.quit_reply = quit_reply
    outcome = smtp_channel(port, retry=quick(3)).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status) == (OutcomeKind.ACKNOWLEDGED, 250)
    assert len(handler.accepted) == 1


def test_the_hash_reported_is_the_hash_of_the_message_the_server_got(mailbox):
    handler, port = mailbox
    outcome = smtp_channel(port).send(make_delivery(addressee="ofsted"))
    content = handler.accepted[0].original_content
    assert hashlib.sha256(content).hexdigest() == outcome.sent_sha256
    assert len(content) == outcome.sent_bytes


def test_a_resent_delivery_has_the_same_message_id(mailbox):
    handler, port = mailbox
    channel = smtp_channel(port)
    first = channel.send(make_delivery(addressee="ofsted"))
    again = channel.send(make_delivery(addressee="ofsted"))
    assert first.reference == again.reference
    ids = {email.message_from_bytes(e.original_content)["Message-ID"] for e in handler.accepted}
    assert ids == {first.reference}


def test_an_uploaded_document_is_attached_as_the_original_file(mailbox):
    handler, port = mailbox
    content = b"%PDF-1.7 \x00\x01 rapid review"
    delivery = make_delivery(
        addressee="ofsted", document="rapid_review", payload=uploaded_document_payload(content)
    )
    smtp_channel(port).send(delivery)
    message = email.message_from_bytes(
        handler.accepted[0].original_content, policy=email.policy.default
    )
    parts = list(message.iter_attachments())
    assert [part.get_content_type() for part in parts] == ["application/pdf", "application/json"]
    files = {part.get_filename(): part for part in parts}
    assert files["rapid-review.pdf"].get_content() == content
    assert files["rapid-review.pdf"].get_content_type() == "application/pdf"
    assert message["X-Csins-Payload-Sha256"] == hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize(
    ("stage", "reply", "kind", "code", "detail"),
    [
        ("rcpt", "450 4.2.1 Mailbox busy", OutcomeKind.TRANSIENT, 450, "450 4.2.1"),
        ("rcpt", "550 5.1.1 No such user", OutcomeKind.PERMANENT, 550, "550 5.1.1"),
        ("data", "451 4.3.0 Try again later", OutcomeKind.TRANSIENT, 451, "DATA: 451 4.3.0"),
        ("data", "554 5.7.1 Rejected", OutcomeKind.PERMANENT, 554, "DATA: 554 5.7.1"),
    ],
)
def test_smtp_4xx_is_transient_and_5xx_permanent(mailbox, stage, reply, kind, code, detail):
    handler, port = mailbox
    if stage == "rcpt":
        handler.rcpt_reply = reply
    else:
        handler.data_replies = [reply]
    outcome = smtp_channel(port).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status, outcome.reference) == (kind, code, None)
    assert outcome.detail.endswith(detail)  # the stage and codes, never the relay's words
    assert reply.split()[-1] not in outcome.detail
    assert handler.accepted == []


def test_a_transient_refusal_then_acceptance_within_the_quick_tries(mailbox):
    handler, port = mailbox
    handler.data_replies = ["421 4.3.2 Shutting down"]
    sleeps = Sleeps()
    outcome = smtp_channel(port, retry=quick(2, sleeps)).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.tries, len(sleeps.waits)) == (OutcomeKind.ACKNOWLEDGED, 2, 1)
    assert len(handler.accepted) == 1


def test_no_server_is_transient():
    outcome = smtp_channel(free_port()).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status) == (OutcomeKind.TRANSIENT, None)
    assert outcome.detail == "no answer: ConnectionRefusedError"


def test_starttls_required_but_not_offered_is_permanent_and_nothing_is_sent(mailbox):
    handler, port = mailbox
    outcome = smtp_channel(port, tls="starttls").send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status) == (OutcomeKind.PERMANENT, 530)
    assert handler.accepted == []


@pytest.fixture
def tls_mailbox(private_ca) -> Iterator[tuple[Mailbox, int, str]]:  # noqa: F811
    """A relay that requires STARTTLS, with a certificate of a test CA made in the test."""
    ca_file, context = private_ca
    handler = Mailbox()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield handler, port, str(ca_file)
    finally:
        controller.stop()


def starttls_channel(port: int, ca_bundle: str | None) -> SmtpChannel:
    return SmtpChannel(
        "ofsted",
        host="127.0.0.1",
        port=port,
        tls="starttls",
        sender="csins@la.example.gov.uk",
        recipients=["notifications@ofsted.example.gov.uk"],
        timeout=5.0,
        ca_bundle=ca_bundle,
        retry=quick(1),
    )


def test_starttls_to_a_relay_certified_by_the_ca_bundle(tls_mailbox):
    handler, port, ca_file = tls_mailbox
    outcome = starttls_channel(port, ca_file).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status) == (OutcomeKind.ACKNOWLEDGED, 250), outcome.detail
    assert outcome.detail == "DATA: 250 2.0.0"
    assert len(handler.accepted) == 1


def test_starttls_to_a_relay_no_trusted_ca_certified_sends_nothing(tls_mailbox):
    handler, port, _ = tls_mailbox
    outcome = starttls_channel(port, None).send(make_delivery(addressee="ofsted"))
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.detail == "no answer: SSLCertVerificationError"
    assert handler.accepted == []


def test_a_relay_requiring_starttls_refuses_mail_in_clear(tls_mailbox):
    handler, port, _ = tls_mailbox
    outcome = smtp_channel(port, tls="none").send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.status) == (OutcomeKind.PERMANENT, 530)
    assert handler.accepted == []
