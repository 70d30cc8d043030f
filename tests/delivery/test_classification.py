"""One HTTP call classified as DESIGN.md §6 says, with ``responses`` standing in for the
addressee (the end-to-end behaviour is tested against the real sandbox in test_https.py)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
from collections.abc import Callable, Iterator
from http.client import RemoteDisconnected
from typing import Any

import pytest
import requests
import responses
from urllib3.exceptions import ProtocolError

from adapter.delivery import HttpsChannel, OutcomeKind, defaults
from adapter.delivery.factory import dev_signing_key
from adapter.delivery.signing import Scheme, VerifyingKey, verify_webhook
from tests.delivery.helpers import FIXED_NOW, Sleeps, make_delivery, quick

ENDPOINT = "https://addressee.example/csins/notifications"

Answer = tuple[int, dict[str, str], bytes]
Handler = Callable[[Any], Answer]


@pytest.fixture(autouse=True)
def addressee() -> Iterator[None]:
    """Every request of a test answered by ``responses`` (no network)."""
    responses.start()
    yield
    responses.stop()
    responses.reset()


def channel(handler: Handler, tries: int = 1, sleeps: Sleeps | None = None) -> HttpsChannel:
    responses.add_callback(responses.POST, ENDPOINT, callback=handler)
    return HttpsChannel(
        "panel",
        ENDPOINT,
        signing_keys=[dev_signing_key(Scheme.V1A)],
        retry=quick(tries, sleeps),
        clock=lambda: FIXED_NOW,
    )


def reply(status: int, body: object = None, headers: dict[str, str] | None = None) -> Answer:
    if body is None:
        return status, dict(headers or {}), b""
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body).encode(),
    )


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    def handler(request: Any) -> Answer:
        return reply(status, body, headers)

    return handler


HTTP_DATE_IN_2_MIN = email.utils.format_datetime(FIXED_NOW + dt.timedelta(minutes=2), usegmt=True)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "reference", "retry_after"),
    [
        (200, {"reference": "PANEL-77"}, None, OutcomeKind.ACKNOWLEDGED, "PANEL-77", None),
        (201, {"reference": 1234}, None, OutcomeKind.ACKNOWLEDGED, "1234", None),
        (202, {"status": "queued"}, None, OutcomeKind.ACKNOWLEDGED, None, None),
        (204, None, None, OutcomeKind.ACKNOWLEDGED, None, None),
        (301, None, {"Location": "https://elsewhere.example/"}, OutcomeKind.PERMANENT, None, None),
        (400, {"title": "Bad envelope"}, None, OutcomeKind.PERMANENT, None, None),
        (401, None, None, OutcomeKind.PERMANENT, None, None),
        (404, None, None, OutcomeKind.PERMANENT, None, None),
        (408, None, None, OutcomeKind.TRANSIENT, None, None),
        (409, {"reference": "not-an-ack"}, None, OutcomeKind.PERMANENT, None, None),
        (410, None, None, OutcomeKind.PERMANENT, None, None),
        (422, None, None, OutcomeKind.PERMANENT, None, None),
        (425, None, None, OutcomeKind.TRANSIENT, None, None),
        (429, None, {"Retry-After": "30"}, OutcomeKind.TRANSIENT, None, 30.0),
        (429, None, {"Retry-After": HTTP_DATE_IN_2_MIN}, OutcomeKind.TRANSIENT, None, 120.0),
        (500, None, None, OutcomeKind.TRANSIENT, None, None),
        (502, None, None, OutcomeKind.TRANSIENT, None, None),
        (503, None, {"Retry-After": "7"}, OutcomeKind.TRANSIENT, None, 7.0),
        (504, None, None, OutcomeKind.TRANSIENT, None, None),
    ],
)
def test_status_classification(status, body, headers, kind, reference, retry_after):
    outcome = channel(answer(status, body, headers)).send(make_delivery())
    assert outcome.kind is kind
    assert outcome.status == status
    assert outcome.reference == reference
    assert outcome.retry_after == retry_after
    assert outcome.tries == 1
    assert outcome.channel == "https"
    assert outcome.destination == ENDPOINT
    assert str(status) in outcome.detail


def test_neither_a_problem_title_nor_its_body_is_copied_into_the_detail():
    """The addressee's words may quote the child (tests/delivery/test_refusal_text.py)."""
    body = {"title": "Sam Example rejected", "detail": "child Sam Example not found"}
    outcome = channel(answer(422, body)).send(make_delivery())
    assert outcome.detail == "HTTP 422 Unprocessable Entity"


@pytest.mark.parametrize(
    ("error", "named", "timed_out"),
    [
        (requests.ConnectTimeout("slow"), "ConnectTimeout", True),
        (requests.ReadTimeout("slow"), "ReadTimeout", True),
        (requests.ConnectionError("refused"), "ConnectionError", False),
        (
            requests.ConnectionError(ProtocolError("aborted", RemoteDisconnected("peer closed"))),
            "RemoteProtocolError",
            False,
        ),
    ],
)
def test_no_answer_is_transient(error, named, timed_out):
    def handler(request):
        raise error

    outcome = channel(handler).send(make_delivery())
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.status is None
    assert outcome.detail == f"{'timed out' if timed_out else 'no answer'}: {named}"  # no message


def test_a_bug_is_not_swallowed():
    def handler(request):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        channel(handler).send(make_delivery())


def test_the_request_carries_idempotency_and_standard_webhook_headers():
    seen: list[Any] = []

    def handler(request):
        seen.append(request)
        return reply(200, {"reference": "R"})

    delivery = make_delivery()
    outcome = channel(handler).send(delivery)
    request = seen[0]
    assert request.method == "POST"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == delivery.delivery_id
    assert request.headers["webhook-id"] == delivery.delivery_id
    assert request.headers["webhook-timestamp"] == str(int(FIXED_NOW.timestamp()))
    assert (
        verify_webhook(
            dict(request.headers),
            request.body,
            [VerifyingKey.parse(defaults.SANDBOX_DEV_PUBLIC_KEY)],
            now=FIXED_NOW.timestamp(),
            tolerance_seconds=1,
        )
        is Scheme.V1A
    )
    assert json.loads(request.body)["delivery_id"] == delivery.delivery_id
    assert outcome.sent_sha256 == __import__("hashlib").sha256(request.body).hexdigest()
    assert outcome.sent_bytes == len(request.body)
    assert outcome.started_at == outcome.finished_at == FIXED_NOW


def test_quick_tries_back_off_and_honour_a_short_retry_after():
    statuses = iter([503, 503, 200])
    sleeps = Sleeps()

    def handler(request):
        status = next(statuses)
        return reply(status, None, {"Retry-After": "3"} if status == 503 else None)

    outcome = channel(handler, tries=3, sleeps=sleeps).send(make_delivery())
    assert outcome.kind is OutcomeKind.ACKNOWLEDGED
    assert outcome.tries == 3
    assert len(sleeps.waits) == 2
    assert all(wait >= 3 for wait in sleeps.waits)  # Retry-After beats the shorter backoff


def test_backoff_grows_between_tries_and_the_last_transient_is_returned():
    sleeps = Sleeps()
    outcome = channel(answer(500), tries=4, sleeps=sleeps).send(make_delivery())
    assert outcome.kind is OutcomeKind.TRANSIENT
    assert outcome.tries == 4
    initial, jitter = defaults.QUICK_RETRY_INITIAL_WAIT_SECONDS, defaults.QUICK_RETRY_JITTER_SECONDS
    for number, wait in enumerate(sleeps.waits):
        assert initial * 2**number <= wait <= initial * 2**number + jitter


def test_a_long_retry_after_ends_the_quick_tries_for_the_job_to_reschedule():
    sleeps = Sleeps()
    outcome = channel(answer(429, None, {"Retry-After": "600"}), tries=3, sleeps=sleeps).send(
        make_delivery()
    )
    assert (outcome.kind, outcome.tries, outcome.retry_after) == (OutcomeKind.TRANSIENT, 1, 600)
    assert sleeps.waits == []


def test_a_permanent_answer_is_not_retried():
    sleeps = Sleeps()
    outcome = channel(answer(400), tries=3, sleeps=sleeps).send(make_delivery())
    assert (outcome.kind, outcome.tries, sleeps.waits) == (OutcomeKind.PERMANENT, 1, [])


def test_the_log_names_the_delivery_but_holds_no_personal_data(caplog):
    payload = {"notification": {"children": [{"forenames": "Sam", "surname": "Example"}]}}
    caplog.set_level(logging.INFO, logger="adapter.delivery")
    channel(answer(503), tries=2).send(make_delivery(payload=payload))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "dlv_01JD0000000000000000000001" in text and "transient" in text
    assert "Sam" not in text and "Example" not in text and "NEL-2026-014" not in text
    final = caplog.records[-1]
    assert final.levelno == logging.WARNING
    assert (final.delivery_id, final.addressee, final.document, final.kind, final.status) == (
        "dlv_01JD0000000000000000000001",
        "panel",
        "incident_notification",
        "transient",
        503,
    )
    assert isinstance(final.duration_ms, int)


def test_a_delivery_for_another_addressee_is_refused():
    from adapter.delivery import InvalidDelivery

    with pytest.raises(InvalidDelivery, match="is for ofsted"):
        channel(answer(200)).send(make_delivery(addressee="ofsted"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        (" 15 ", 15.0),
        ("Tue, 24 Nov 2026 09:29:00 GMT", 0.0),
        ("Tuesday, 24-Nov-26 09:31:00 GMT", 60.0),
        ("soon", None),
        ("-5", None),
        ("²", None),  # isdigit() but not a number int() reads
        ("١٢", None),  # Arabic-Indic digits: RFC 9110 delay-seconds is ASCII only
        ("9" * 5000, None),  # no delay an addressee means, and too long for int()
        (None, None),
    ],
)
def test_retry_after_forms(value, expected):
    from adapter.delivery.outcome import parse_retry_after

    assert parse_retry_after(value, FIXED_NOW) == expected


def test_an_outcome_has_a_json_ready_form():
    outcome = channel(answer(200, {"reference": "R-1"})).send(make_delivery())
    values = outcome.as_dict()
    assert json.loads(json.dumps(values)) == values
    assert values["kind"] == "acknowledged"
    assert values["started_at"] == "2026-11-24T09:30:00+00:00"
    assert outcome.duration_seconds == 0.0


@pytest.mark.parametrize(
    ("attempts", "retry_after", "seconds"),
    [
        (1, None, 60),  # the policy schedule: 1 m, 5 m, 30 m, 2 h, 5 h, 10 h, then every 10 h
        (2, None, 300),
        (9, None, 36000),
        (1, 0.0, 1),  # "retry now": after a second
        (1, 120.0, 120),  # the addressee's word, within the schedule
        (1, 40_000.0, 40_000),  # longer than the schedule's longest interval: honoured
        (1, 999_999_999.0, 86400),  # but a notification is never put off for over a day
    ],
)
def test_the_retry_delay_honours_retry_after_up_to_a_day(attempts, retry_after, seconds):
    from adapter.service.delivering import retry_delay
    from config.settings import load_settings

    policy = load_settings(env={}).policy
    assert retry_delay(policy, attempts, retry_after).total_seconds() == seconds
