"""The sandbox receiver over real HTTP: verification, deduplication, stats and faults."""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any

import httpx
import pytest

from adapter.delivery import Delivery, defaults, encode_envelope
from adapter.delivery.signing import Scheme, SigningKey, new_key, signature_header
from adapter.sandbox import RunningSandbox
from tests.delivery.helpers import FIXED_NOW, make_delivery


def post(
    http: httpx.Client,
    sandbox: RunningSandbox,
    addressee: str = "panel",
    *,
    delivery: Delivery | None = None,
    key: str = defaults.SANDBOX_DEV_SIGNING_KEY,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> httpx.Response:
    """POST ``body`` (default: the delivery's envelope) signed with ``key`` at ``timestamp``."""
    delivery = delivery or make_delivery(addressee=addressee)
    body = encode_envelope(delivery) if body is None else body
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        "webhook-id": delivery.delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            [SigningKey.parse(key)], delivery.delivery_id, timestamp, body
        ),
    }
    return http.post(f"{sandbox.base_url}/{addressee}", content=body, headers=headers)


def stats(http: httpx.Client, sandbox: RunningSandbox) -> dict[str, Any]:
    result: dict[str, Any] = http.get(f"{sandbox.base_url}/_sandbox/stats").json()
    return result


def test_health_and_unknown_routes(http, sandbox):
    assert http.get(f"{sandbox.base_url}/healthz").json() == {"status": "ok"}
    assert http.get(f"{sandbox.base_url}/nowhere").status_code == 404
    assert http.post(f"{sandbox.base_url}/police", content=b"{}").status_code == 404
    assert http.delete(f"{sandbox.base_url}/panel").status_code == 404


@pytest.mark.parametrize("addressee", defaults.SANDBOX_ADDRESSEES)
def test_each_addressee_answers_with_its_own_reference(http, sandbox, addressee):
    response = post(http, sandbox, addressee)
    assert response.status_code == 200
    assert response.json() == {"reference": f"{addressee.upper()}-1", "duplicate": False}


def test_both_schemes_are_accepted_with_the_development_keys(http, sandbox):
    assert post(http, sandbox, key=defaults.SANDBOX_DEV_HMAC_SECRET).status_code == 200
    v1a = make_delivery(delivery_id="dlv_v1a")
    assert post(http, sandbox, delivery=v1a).status_code == 200
    received = stats(http, sandbox)["addressees"]["panel"]["received"]
    assert received["dlv_01JD0000000000000000000001"]["scheme"] == "v1"
    assert received["dlv_v1a"]["scheme"] == "v1a"


def test_a_repeated_webhook_id_gets_the_same_reference_and_counts_once(http, sandbox):
    first = post(http, sandbox).json()
    second = post(http, sandbox).json()
    assert first == {"reference": "PANEL-1", "duplicate": False}
    assert second == {"reference": "PANEL-1", "duplicate": True}
    panel = stats(http, sandbox)["addressees"]["panel"]
    assert (panel["count"], panel["requests"]) == (1, 2)


def test_a_wrong_key_or_a_tampered_body_is_401(http, sandbox):
    assert post(http, sandbox, key=new_key(Scheme.V1A)[0]).status_code == 401
    assert post(http, sandbox, key=new_key(Scheme.V1)[0]).status_code == 401
    delivery = make_delivery()
    body = encode_envelope(delivery)
    timestamp = int(time.time())
    headers = {
        "webhook-id": delivery.delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            [SigningKey.parse(defaults.SANDBOX_DEV_SIGNING_KEY)],
            delivery.delivery_id,
            timestamp,
            body,
        ),
    }
    tampered = body.replace(b'"812"', b'"813"')
    response = http.post(f"{sandbox.base_url}/panel", content=tampered, headers=headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert stats(http, sandbox)["addressees"]["panel"]["count"] == 0


@pytest.mark.parametrize("offset", [-400, 400])
def test_a_stale_or_future_timestamp_is_400(http, sandbox, offset):
    assert post(http, sandbox, timestamp=int(time.time()) + offset).status_code == 400


def test_missing_webhook_headers_are_400(http, sandbox):
    response = http.post(f"{sandbox.base_url}/panel", content=encode_envelope(make_delivery()))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"addressee": "ofsted"}, "addressee or delivery_id"),
        ({"delivery_id": "dlv_someone_else"}, "addressee or delivery_id"),
        ({"payload_sha256": "0" * 64}, "payload_sha256"),
    ],
)
def test_an_envelope_that_does_not_add_up_is_422(http, sandbox, change, detail):
    envelope = json.loads(encode_envelope(make_delivery()))
    envelope.update(change)
    response = post(http, sandbox, body=json.dumps(envelope).encode())
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_faults_play_for_their_times_then_the_sandbox_recovers(http, sandbox):
    response = http.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json=[{"addressee": "panel", "status": 503, "retry_after": 2, "times": 2}],
    )
    assert response.status_code == 201
    assert response.json()["faults"][0]["times"] == 2
    answers = [post(http, sandbox) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert answers[0].headers["Retry-After"] == "2"
    assert post(http, sandbox, "ofsted").status_code == 200  # the fault was the panel's only
    assert stats(http, sandbox)["faults"] == []


@pytest.mark.parametrize("status", [520, 599, 299])
def test_a_fault_status_http_status_does_not_name_is_answered_as_is(http, sandbox, status):
    """Any final status, 200 to 599, is a valid fault, named by ``http.HTTPStatus`` or not."""
    response = http.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"addressee": "panel", "status": status, "times": 1},
    )
    assert response.status_code == 201
    answer = post(http, sandbox)
    assert answer.status_code == status
    assert answer.json() == {"title": f"HTTP {status}", "status": status, "detail": "sandbox fault"}
    assert post(http, sandbox).status_code == 200


def test_a_wildcard_fault_until_cleared_with_an_http_date(http, sandbox):
    when = email.utils.format_datetime(FIXED_NOW, usegmt=True)
    http.post(
        f"{sandbox.base_url}/_sandbox/faults",
        json={"addressee": "*", "status": 429, "retry_after": when},
    )
    for addressee in ("panel", "dfe", "panel"):
        response = post(http, sandbox, addressee)
        assert (response.status_code, response.headers["Retry-After"]) == (429, when)
    assert http.delete(f"{sandbox.base_url}/_sandbox/faults").status_code == 200
    assert post(http, sandbox).status_code == 200


def test_a_delay_only_fault_answers_normally_after_waiting(http, sandbox):
    http.post(f"{sandbox.base_url}/_sandbox/faults", json={"delay": 0.05, "times": 1})
    assert post(http, sandbox).json()["reference"] == "PANEL-1"


def test_a_reset_fault_drops_the_connection(http, sandbox):
    http.post(f"{sandbox.base_url}/_sandbox/faults", json={"reset": True, "times": 1})
    with pytest.raises(httpx.TransportError):
        post(http, sandbox)
    assert post(http, sandbox).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {"addressee": "police", "status": 500},
        {"status": 99},
        {"status": 103},  # informational: the client would wait for the final answer
        {"status": 600},
        {"status": True},
        {"times": 0, "status": 500},
        {"delay": -1},
        {"reset": "yes"},
        {},
        {"status": 500, "colour": "red"},
        [1],
        "not json",
    ],
)
def test_a_bad_fault_is_400(http, sandbox, fault):
    content = fault.encode() if isinstance(fault, str) else json.dumps(fault).encode()
    response = http.post(f"{sandbox.base_url}/_sandbox/faults", content=content)
    assert response.status_code == 400
    assert stats(http, sandbox)["faults"] == []


def test_reset_forgets_what_was_received_and_the_faults(http, sandbox):
    post(http, sandbox)
    http.post(f"{sandbox.base_url}/_sandbox/faults", json={"status": 500})
    assert http.post(f"{sandbox.base_url}/_sandbox/reset").status_code == 200
    after = stats(http, sandbox)
    assert after["faults"] == [] and after["addressees"]["panel"]["count"] == 0
    assert post(http, sandbox).json()["reference"] == "PANEL-1"


def test_stop_wakes_a_delayed_request(http, sandbox):
    """A long delay must not hold up shutdown: stop() resets the waiting connection."""
    import threading

    from adapter.sandbox import start_in_thread

    with start_in_thread() as other:
        http.post(f"{other.base_url}/_sandbox/faults", json={"delay": 30})
        errors: list[Exception] = []

        def call() -> None:
            try:
                post(http, other)
            except httpx.TransportError as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        while other.state.stats()["addressees"]["panel"]["requests"] == 0:
            time.sleep(0.01)
    caller.join(timeout=5)
    assert not caller.is_alive() and len(errors) == 1
