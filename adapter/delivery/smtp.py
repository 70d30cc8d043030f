"""The ``smtp`` channel: the document as an email through a mail relay (DESIGN.md §6).

The message carries the document itself as its first attachment, in its own bytes and media type
(an uploaded file as the LA uploaded it, a rapid review PDF say; a document made of the record,
a notification or amendment, as its RFC 8785 JSON), the bytes ``X-Csins-Payload-Sha256``
hashes; and beside it the JSON envelope as ``<document>-<delivery_id>.json`` (byte for byte the
https body). The subject and the short covering note name the document, the LA and the incident
reference, never a child. STARTTLS (or implicit TLS) is required unless ``tls: none`` is
configured, and a ``ca_bundle`` adds CAs to trust (a relay certified by the LA's own CA). Its
``Message-ID`` is derived from the delivery id alone, so a re-sent delivery is recognisable as
the same message. The acknowledgement is the relay's acceptance of the message (250 after DATA);
the reference is our Message-ID. Reply codes: 2xx acknowledged, 4xx transient, 5xx permanent;
no connection or a dropped one is transient (RFC 5321 §4.2.1). The detail of a reply is the
stage, the code and an enhanced status code (RFC 3463), never the relay's text: a relay (a DLP
gateway, say) may quote the message it refuses, and the detail is logged and stored in clear.
"""

from __future__ import annotations

import email.policy
import email.utils
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from typing import ClassVar, Literal

from adapter.clock import utcnow
from adapter.delivery import defaults
from adapter.delivery.base import Channel, Clock, QuickRetry
from adapter.delivery.envelope import Delivery, attachment_bytes, encode_envelope
from adapter.delivery.errors import ChannelConfigError, NoAnswer
from adapter.delivery.outcome import OutcomeKind, Reply, classify_smtp_code

TlsMode = Literal["starttls", "tls", "none"]
"""``starttls`` upgrades a plain connection (port 587); ``tls`` is implicit TLS (port 465)."""

MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
"""CRLF line ends; headers folded only past RFC 5322's hard limit, so hashes stay on one line."""

_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")
"""A media type ``type/subtype`` without parameters (RFC 6838 names)."""
_ENHANCED_STATUS = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
"""An RFC 3463 enhanced status code (``5.1.1``): class, subject and detail, digits only."""
_NOT_OFFERED = 530
"""Reply code reported when the relay does not offer STARTTLS (RFC 3207: "Must issue a STARTTLS
command first"): a permanent configuration problem, never a reason to send in clear."""


def envelope_filename(delivery: Delivery) -> str:
    """The name of the envelope attachment: ``<document>-<delivery_id>.json``."""
    return f"{delivery.document}-{delivery.delivery_id}.json"


class SmtpChannel(Channel):
    """Delivers by email to a fixed list of recipients through one relay."""

    name: ClassVar[str] = "smtp"

    def __init__(
        self,
        addressee: str,
        *,
        host: str,
        sender: str,
        recipients: Sequence[str],
        port: int = defaults.SMTP_PORT,
        tls: TlsMode = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = defaults.SMTP_TIMEOUT_SECONDS,
        message_id_domain: str | None = None,
        ca_bundle: str | None = None,
        retry: QuickRetry | None = None,
        clock: Clock = utcnow,
    ) -> None:
        if not recipients:
            raise ChannelConfigError(addressee, "to: at least one recipient is needed")
        if "@" not in sender:
            raise ChannelConfigError(addressee, "from: expected an email address")
        if (username is None) != (password is None):
            raise ChannelConfigError(addressee, "username and password go together")
        super().__init__(addressee, "mailto:" + ",".join(recipients), retry=retry, clock=clock)
        self.host = host
        self.port = port
        self.tls: TlsMode = tls
        self.sender = sender
        self.recipients = tuple(recipients)
        self.timeout = timeout
        self.message_id_domain = message_id_domain or sender.rpartition("@")[2]
        self._username = username
        self._password = password
        self._tls_context = _tls_context(addressee, ca_bundle)

    def message_id(self, delivery: Delivery) -> str:
        """The deterministic ``Message-ID`` of ``delivery``: the same for every re-send."""
        return f"<csins.{delivery.delivery_id}@{self.message_id_domain}>"

    def classify(self, status: int) -> OutcomeKind:
        """SMTP reply codes, not HTTP statuses."""
        return classify_smtp_code(status)

    def encode(self, delivery: Delivery) -> bytes:
        """The whole message as sent (CRLF line ends), built once per send."""
        return self.build_message(delivery).as_bytes(policy=MAIL_POLICY)

    def build_message(self, delivery: Delivery) -> EmailMessage:
        """The email for ``delivery``: a short cover note, the envelope, any uploaded file."""
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Subject"] = (
            f"{delivery.document}: incident {delivery.incident_reference} "
            f"(LA {delivery.local_authority}), version {delivery.version}"
        )
        message["Date"] = email.utils.format_datetime(self._clock())
        message["Message-ID"] = self.message_id(delivery)
        message["X-Csins-Delivery-Id"] = delivery.delivery_id
        message["X-Csins-Payload-Sha256"] = delivery.payload_sha256
        name = envelope_filename(delivery)
        content, media_type, filename = _document(delivery)
        message.set_content(
            "This message delivers a document from csins-adapter on behalf of the local "
            "authority named below.\n\n"
            f"Document: {delivery.document}\n"
            f"Local authority: {delivery.local_authority}\n"
            f"Incident reference: {delivery.incident_reference}\n"
            f"Version: {delivery.version}\n"
            f"Delivery id: {delivery.delivery_id}\n"
            f"Document SHA-256: {delivery.payload_sha256}\n\n"
            f"Attached: the document ({filename}, {media_type}) and its JSON record ({name}).\n"
        )
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
        message.add_attachment(
            encode_envelope(delivery), maintype="application", subtype="json", filename=name
        )
        return message

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "tls":
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self._tls_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _transmit(self, delivery: Delivery, body: bytes) -> Reply:
        try:
            relay = self._connect()
            try:
                return self._converse(relay, delivery, body)
            finally:
                _close(relay)
        except smtplib.SMTPNotSupportedError:
            return Reply(_NOT_OFFERED, detail="the relay does not offer STARTTLS")
        except smtplib.SMTPResponseException as exc:  # greeting, EHLO, STARTTLS, AUTH, DATA
            stage = type(exc).__name__
            return Reply(exc.smtp_code, detail=_reply_text(stage, exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            # The class name only: the message may quote the relay (a TLS error, its names).
            timed_out = isinstance(exc, TimeoutError)
            raise NoAnswer(f"no answer: {type(exc).__name__}", timed_out=timed_out) from None

    def _converse(self, relay: smtplib.SMTP, delivery: Delivery, body: bytes) -> Reply:
        relay.ehlo_or_helo_if_needed()
        if self.tls == "starttls":
            relay.starttls(context=self._tls_context)
            relay.ehlo()
        if self._username is not None and self._password is not None:
            relay.login(self._username, self._password)
        code, text = relay.mail(self.sender)
        if code != 250:
            return Reply(code, detail=_reply_text("MAIL FROM", code, text))
        refused = [
            (code, text)
            for code, text in (relay.rcpt(r) for r in self.recipients)
            if code not in (250, 251)
        ]
        if refused:
            relay.rset()
            # Any permanent refusal makes the delivery permanent; else it is worth retrying.
            code, text = ([reply for reply in refused if reply[0] >= 500] or refused)[0]
            return Reply(
                code,
                detail=_reply_text(
                    f"RCPT TO ({len(refused)} of {len(self.recipients)} refused)", code, text
                ),
            )
        code, text = relay.data(body)
        reference = self.message_id(delivery) if 200 <= code < 300 else None
        return Reply(code, reference=reference, detail=_reply_text("DATA", code, text))


def _close(relay: smtplib.SMTP) -> None:
    """QUIT, whatever the relay answers: its reply to DATA was the acknowledgement, and a
    refusal of QUIT afterwards must neither send the message again nor fail it."""
    try:
        relay.quit()
    except (smtplib.SMTPException, OSError):
        relay.close()


def _reply_text(stage: str, code: int, text: bytes | str) -> str:
    """``<stage>: <code>`` and the reply's enhanced status code when it has one: never the
    relay's own words, which may quote the message refused (a child's name, an NHS number)."""
    enhanced = enhanced_status(text)
    return f"{stage}: {code} {enhanced}" if enhanced else f"{stage}: {code}"


def enhanced_status(text: bytes | str) -> str | None:
    """The RFC 3463 enhanced status code a reply's text starts with (``5.1.1``), or None.

    Only a first word of digits and dots in that exact form counts, so nothing else the relay
    wrote can pass for one.
    """
    message = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    words = message.split(maxsplit=1)
    if words and _ENHANCED_STATUS.fullmatch(words[0]):
        return words[0]
    return None


def _document(delivery: Delivery) -> tuple[bytes, str, str]:
    """The document's own bytes, media type and file name: an uploaded file as it came, else
    the payload's canonical JSON (what ``payload_sha256`` hashes, either way)."""
    upload = delivery.payload.get("attachment")
    attached = attachment_bytes(delivery.payload)
    if attached is not None and isinstance(upload, Mapping):
        media_type = str(upload.get("media_type") or "").lower()
        if not _MEDIA_TYPE.fullmatch(media_type):
            media_type = "application/octet-stream"
        return attached, media_type, _safe_filename(upload.get("filename"), delivery)
    return delivery.canonical_payload, "application/json", f"{delivery.document}.json"


def _tls_context(addressee: str, ca_bundle: str | None) -> ssl.SSLContext:
    """The default context (certificates and host names verified), trusting ``ca_bundle``'s
    CAs besides the system's."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as error:
            raise ChannelConfigError(
                addressee, f"ca_bundle: {ca_bundle} cannot be loaded ({type(error).__name__})"
            ) from None
    return context


def _safe_filename(name: object, delivery: Delivery) -> str:
    cleaned = _SAFE_FILENAME.sub("_", str(name or "")).strip(" .")
    return cleaned[:120] or f"{delivery.document}-{delivery.delivery_id}"
