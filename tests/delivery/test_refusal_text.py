"""What an addressee writes in an answer never enters a delivery's detail (DESIGN.md §6).

An addressee may quote what it was sent when it refuses it: a problem ``title``, a reason
phrase, a relay's reply text, a malformed status line naming the child. The detail is logged,
stored in clear (``delivery_attempts.detail``, ``deliveries.last_error`` and ``last_response``),
sent in alerts and shown by the API, so it holds only our own words: the HTTP status and its
standard phrase, the SMTP stage and reply code, an exception's class name. Its classification
is unchanged. Every peer here is a real server on 127.0.0.1.

The ``httpx`` and ``httpcore`` loggers are left out of the log checks: they are third-party
loggers, silent unless a deployment configures logging (the service does not), and the first
logs the reason phrase at INFO, the second the response headers at DEBUG.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import socket
import socketserver
import threading
import traceback
from collections.abc import Iterable, Iterator
from typing import ClassVar

import pytest
from sqlalchemy import inspect, text

from adapter.delivery import Outcome, OutcomeKind, SmtpChannel
from adapter.receipts.log import signer_for
from adapter.service import delivering
from adapter.store.models import DeliveryRow
from tests.delivery.helpers import ScriptedAddressee, make_delivery, quick, sandbox_channel
from tests.support.service import Service, sample_record

NAME = "Zebedee Quartermain"
NHS_NUMBER = "4011234567"
QUOTE = f"Child {NAME} (NHS {NHS_NUMBER}) already notified"
"""What a hostile or careless addressee echoes back: a child's name and NHS number."""
MARKERS = ("Zebedee", "Quartermain", NHS_NUMBER)

THIRD_PARTY_LOGGERS = ("httpx", "httpcore")
"""Loggers not ours (see the module docstring); everything else captured is checked."""


def leaked(texts: Iterable[str]) -> list[str]:
    """The markers of the quoted child found in any of ``texts``."""
    joined = "\n".join(texts)
    return [marker for marker in MARKERS if marker in joined]


def logged(records: Iterable[logging.LogRecord]) -> list[str]:
    """All a log record holds: message, arguments, ``extra`` fields, exception text."""
    texts = []
    for record in records:
        if record.name.split(".")[0] in THIRD_PARTY_LOGGERS:
            continue
        texts.append(record.getMessage())
        texts.extend(repr(value) for value in vars(record).values())
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
    return texts


def problem(status: int) -> bytes:
    """An RFC 9457 problem quoting the child in each of its texts."""
    return json.dumps(
        {"type": "about:blank", "title": QUOTE, "status": status, "detail": QUOTE}
    ).encode()


# --- https --------------------------------------------------------------------------------------


def refusing(addressee: ScriptedAddressee, status: int, retry_after: str | None = None) -> None:
    """Have ``addressee`` answer ``status`` with a problem and a reason phrase quoting the child."""
    addressee.answer = (status, "application/problem+json", problem(status))
    addressee.reason = f"Refused {QUOTE}"
    addressee.headers = {"Retry-After": retry_after} if retry_after else {}


@pytest.mark.parametrize(
    ("status", "retry_after", "kind", "tries", "waited", "detail"),
    [
        (400, None, OutcomeKind.PERMANENT, 1, None, "HTTP 400 Bad Request"),
        (409, None, OutcomeKind.PERMANENT, 1, None, "HTTP 409 Conflict"),
        (422, None, OutcomeKind.PERMANENT, 1, None, "HTTP 422 Unprocessable Entity"),
        (429, "2", OutcomeKind.TRANSIENT, 2, 2.0, "HTTP 429 Too Many Requests"),
        (503, None, OutcomeKind.TRANSIENT, 2, None, "HTTP 503 Service Unavailable"),
        (503, "600", OutcomeKind.TRANSIENT, 1, 600.0, "HTTP 503 Service Unavailable"),
        (520, None, OutcomeKind.TRANSIENT, 2, None, "HTTP 520"),  # no standard phrase
    ],
)
def test_an_https_refusal_is_detailed_by_its_status_alone(
    addressee, caplog, status, retry_after, kind, tries, waited, detail
):
    caplog.set_level(logging.DEBUG)
    refusing(addressee, status, retry_after)
    outcome = sandbox_channel(addressee.url, retry=quick(2), https=True).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries, outcome.retry_after) == (
        kind,
        status,
        tries,
        waited,
    )
    assert outcome.reference is None
    assert outcome.detail == detail
    assert leaked([outcome.detail]) == []
    assert leaked(logged(caplog.records)) == []
    messages = [record.getMessage() for record in caplog.records]
    assert any(detail in message for message in messages)  # the final log line, at least
    if tries > 1:
        assert any("trying again" in message for message in messages)


def test_an_acknowledgement_is_detailed_by_its_status_and_our_notes_alone(addressee, caplog):
    caplog.set_level(logging.DEBUG)
    reference = " ".join([QUOTE] * 20)  # too long for a receipt: dropped, and only counted
    body = {"title": QUOTE, "detail": QUOTE, "reference": reference}
    addressee.answer = (200, "application/json", json.dumps(body).encode())
    addressee.reason = f"Taken {QUOTE}"
    outcome = sandbox_channel(addressee.url, https=True).send(make_delivery())
    assert (outcome.kind, outcome.reference) == (OutcomeKind.ACKNOWLEDGED, None)
    assert outcome.detail == (
        f"HTTP 200 OK: reference ignored ({len(reference)} characters, over 200)"
    )
    assert leaked(logged(caplog.records)) == []


class _GarbledAddressee(socketserver.ThreadingTCPServer):
    """Answers every request with an HTTP status line no client can parse, quoting the child."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _GarbledHandler)


class _GarbledHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(f"HTTP/1.1 2x0 {QUOTE}\r\n\r\n".encode())
        self.request.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def garbled() -> Iterator[str]:
    server = _GarbledAddressee()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/csins"
    server.shutdown()
    server.server_close()
    thread.join()


def test_no_answer_is_detailed_by_the_errors_class_not_its_message(garbled, caplog):
    """httpx's (h11's) message quotes the malformed status line the peer sent."""
    caplog.set_level(logging.DEBUG)
    outcome = sandbox_channel(garbled, retry=quick(2), https=True).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.TRANSIENT, None, 2)
    assert outcome.detail == "no answer: RemoteProtocolError"
    assert leaked(logged(caplog.records)) == []


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (200, "HTTP 200 OK"),
        (301, "HTTP 301 Moved Permanently"),
        (425, "HTTP 425 Too Early"),
        (499, "HTTP 499"),
        (599, "HTTP 599"),
    ],
)
def test_the_status_detail_is_the_standard_phrase_or_the_number(status, detail):
    from adapter.delivery.https import status_detail

    assert status_detail(status) == detail


# --- smtp ---------------------------------------------------------------------------------------


class ScriptedRelay(socketserver.ThreadingTCPServer):
    """A mail relay on 127.0.0.1 answering each stage with the line ``replies`` gives it:
    ``greeting``, ``EHLO``, ``HELO``, ``MAIL``, ``RCPT``, ``DATA`` (the command) and ``END`` (the
    message's final dot). A stage not given is accepted."""

    daemon_threads = True
    allow_reuse_address = True
    ACCEPT: ClassVar[dict[str, str]] = {
        "greeting": "220 relay.example ESMTP",
        "EHLO": "250 relay.example",
        "HELO": "250 relay.example",
        "MAIL": "250 2.1.0 Ok",
        "RCPT": "250 2.1.5 Ok",
        "DATA": "354 End data with <CR><LF>.<CR><LF>",
        "END": "250 2.0.0 Ok: queued",
        "RSET": "250 2.0.0 Ok",
        "QUIT": "221 2.0.0 Bye",
    }

    def __init__(self, replies: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        self.replies = {**self.ACCEPT, **replies}
        self.accepted = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _RelayHandler(socketserver.StreamRequestHandler):
    server: ScriptedRelay

    def reply(self, stage: str) -> bool:
        line = self.server.replies[stage]
        self.wfile.write(line.encode() + b"\r\n")
        return line.startswith(("2", "3"))

    def handle(self) -> None:
        if not self.reply("greeting"):
            return
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").split(" ", 1)[0].strip().upper()
            if verb == "DATA":
                if self.reply("DATA"):
                    while self.rfile.readline() not in (b".\r\n", b""):
                        pass
                    if self.reply("END"):
                        self.server.accepted += 1
            elif verb == "QUIT":
                self.reply("QUIT")
                return
            else:
                self.reply(verb if verb in self.server.replies else "RSET")


@contextlib.contextmanager
def serving(server: ScriptedRelay) -> Iterator[ScriptedRelay]:
    """Serve ``server`` in a thread for the length of the block."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def relay(request: pytest.FixtureRequest) -> Iterator[ScriptedRelay]:
    """A relay answering as the test's ``replies`` parameter says."""
    with serving(ScriptedRelay(request.param)) as server:
        yield server


def relay_channel(relay: ScriptedRelay, addressee: str = "ofsted", tries: int = 2) -> SmtpChannel:
    return SmtpChannel(
        addressee,
        host="127.0.0.1",
        port=relay.port,
        tls="none",
        sender="csins@la.example.gov.uk",
        recipients=["notifications@ofsted.example.gov.uk", "duty@ofsted.example.gov.uk"],
        timeout=5.0,
        retry=quick(tries),
    )


SMTP_REFUSALS = [
    ({"greeting": f"554 5.3.2 {QUOTE}"}, OutcomeKind.PERMANENT, "SMTPConnectError: 554 5.3.2"),
    (
        {"EHLO": f"550 {QUOTE}", "HELO": f"550 {QUOTE}"},
        OutcomeKind.PERMANENT,
        "SMTPHeloError: 550",
    ),
    ({"MAIL": f"451 4.3.0 {QUOTE}"}, OutcomeKind.TRANSIENT, "MAIL FROM: 451 4.3.0"),
    (
        {"RCPT": f"550 5.1.1 {QUOTE}"},
        OutcomeKind.PERMANENT,
        "RCPT TO (2 of 2 refused): 550 5.1.1",
    ),
    ({"DATA": f"554 5.7.1 {QUOTE}"}, OutcomeKind.PERMANENT, "SMTPDataError: 554 5.7.1"),
    ({"END": f"550 5.7.1 DLP: {QUOTE}"}, OutcomeKind.PERMANENT, "DATA: 550 5.7.1"),
    ({"END": f"452 4.3.1 {QUOTE}"}, OutcomeKind.TRANSIENT, "DATA: 452 4.3.1"),
    # Nothing that is not exactly an enhanced status code passes for one.
    ({"END": f"550 {QUOTE}"}, OutcomeKind.PERMANENT, "DATA: 550"),
    ({"END": f"550 5.7.1{NAME}"}, OutcomeKind.PERMANENT, "DATA: 550"),
    ({"END": f"550 5.{NHS_NUMBER}.1 {NAME}"}, OutcomeKind.PERMANENT, "DATA: 550"),
    ({"END": f"550 {NHS_NUMBER}"}, OutcomeKind.PERMANENT, "DATA: 550"),
]


@pytest.mark.parametrize(
    ("relay", "kind", "detail"),
    SMTP_REFUSALS,
    indirect=["relay"],
    ids=[
        "greeting",
        "helo",
        "mail-from",
        "rcpt-to",
        "data-command",
        "data-550",
        "data-452",
        "no-enhanced",
        "enhanced-glued",
        "enhanced-too-long",
        "number-alone",
    ],
)
def test_an_smtp_refusal_is_detailed_by_its_stage_and_code_alone(relay, caplog, kind, detail):
    caplog.set_level(logging.DEBUG)
    outcome = relay_channel(relay).send(make_delivery(addressee="ofsted"))
    assert (outcome.kind, outcome.reference) == (kind, None)
    assert outcome.tries == (2 if kind is OutcomeKind.TRANSIENT else 1)
    assert outcome.detail == detail
    assert relay.accepted == 0
    assert leaked(logged(caplog.records)) == []


@pytest.mark.parametrize(
    ("text", "enhanced"),
    [
        (b"5.1.1 No such user", "5.1.1"),
        ("4.7.0 later", "4.7.0"),
        (b"2.0.0", "2.0.0"),
        (b"5.123.456 x", "5.123.456"),
        (b"5.1234.1 x", None),
        (b"3.1.1 not a class", None),
        (b"5.1 short", None),
        (b"5.1.1.1 long", None),
        (b"5.1.1: glued", None),
        ("5.\u0661.1 Arabic-Indic digit", None),
        (b"", None),
        (b"\xff\xfe", None),
    ],
)
def test_an_enhanced_status_code_is_taken_only_in_its_exact_form(text, enhanced):
    from adapter.delivery.smtp import enhanced_status

    assert enhanced_status(text) == enhanced


# --- from the outcome to the database, the API and the alert webhook ---------------------------


@pytest.mark.parametrize(
    ("peer", "recorded", "alert", "last_error"),
    [
        ("https-422", "failed", "delivery_failed", "422 HTTP 422 Unprocessable Entity"),
        ("https-400", "failed", "delivery_failed", "400 HTTP 400 Bad Request"),
        ("https-503", "retrying", "deadline_at_risk", "503 HTTP 503 Service Unavailable"),
        ("smtp-550", "failed", "delivery_failed", "550 DATA: 550 5.7.1"),
    ],
)
def test_a_refusal_quoting_a_child_reaches_no_column_alert_log_or_api_answer(
    service: Service,
    addressee: ScriptedAddressee,
    caplog: pytest.LogCaptureFixture,
    peer: str,
    recorded: str,
    alert: str,
    last_error: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    response = service.post("/api/v1/incidents", service.key(), sample_record())
    assert response.status_code == 201, response.get_json()
    (queued,) = response.get_json()["deliveries"]
    database = service.database
    with database.session_scope() as session:
        started = delivering.start(session, database.keyring, service.settings.policy, queued["id"])
        due = session.get_one(DeliveryRow, queued["id"]).obligation.due  # type: ignore[union-attr]
    assert started is not None and started.message is not None
    channel_name, _, code = peer.partition("-")
    outcome: Outcome
    if channel_name == "https":
        refusing(addressee, int(code))
        channel = sandbox_channel(addressee.url, addressee=started.addressee, https=True)
        outcome = channel.send(started.message)
    else:
        with serving(ScriptedRelay({"END": f"{code} 5.7.1 DLP: {QUOTE}"})) as server:
            outcome = relay_channel(server, started.addressee).send(started.message)
    # The deadline has passed, so a transient failure is alerted too (deadline at risk).
    late = dt.datetime.combine(due + dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    with ScriptedAddressee() as hook:
        hook.answer = (204, "application/json", b"")
        settings = service.settings.with_overrides(alert_webhook_url=hook.url)
        with database.session_scope() as session:
            done = delivering.record(
                session, database.keyring, settings, signer_for(settings), started, outcome, late
            )
        assert done.status == recorded
        posted = [body.decode() for body in hook.received]
    assert [json.loads(body)["kind"] for body in posted] == [alert]
    assert json.loads(posted[0])["last_error"] == last_error
    assert leaked(posted) == []
    assert leaked(logged(caplog.records)) == []
    assert leaked(every_stored_value(service)) == []
    with database.session_scope() as session:
        row = session.get_one(DeliveryRow, queued["id"])
        assert (row.last_error, row.attempt_log[-1].detail) == (last_error, last_error)
    answer = service.get("/api/v1/deliveries", service.key("admin", "812"))
    assert answer.status_code == 200
    assert leaked([answer.get_data(as_text=True)]) == []
    (listed,) = [item for item in answer.get_json()["items"] if item["id"] == queued["id"]]
    assert listed["last_error"] == last_error


def every_stored_value(service: Service) -> list[str]:
    """Every value of every row of every table, as text (bytes read as Latin-1)."""
    engine = service.database.engine
    values = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        values.append(bytes(value).decode("latin-1"))
                    else:
                        values.append(str(value))
    return values
