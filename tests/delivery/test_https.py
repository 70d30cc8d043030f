"""The https and sandbox channels against the real sandbox receiver on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from adapter.delivery import OutcomeKind
from adapter.delivery.signing import Scheme
from adapter.sandbox import RunningSandbox
from tests.delivery.helpers import (
    Sleeps,
    free_port,
    make_delivery,
    quick,
    sandbox_channel,
    uploaded_document_payload,
)


def add_fault(http: httpx.Client, sandbox: RunningSandbox, **fault: Any) -> None:
    response = http.post(f"{sandbox.base_url}/_sandbox/faults", json=fault)
    assert response.status_code == 201, response.text


def stats(http: httpx.Client, sandbox: RunningSandbox, addressee: str = "panel") -> dict[str, Any]:
    result: dict[str, Any] = http.get(f"{sandbox.base_url}/_sandbox/stats").json()
    return result["addressees"][addressee]  # type: ignore[no-any-return]


@pytest.mark.parametrize("scheme", [Scheme.V1, Scheme.V1A])
def test_acknowledged_with_the_addressees_reference_under_either_scheme(http, sandbox, scheme):
    outcome = sandbox_channel(sandbox.url_for("panel"), scheme=scheme).send(make_delivery())
    assert outcome.kind is OutcomeKind.ACKNOWLEDGED
    assert (outcome.status, outcome.reference, outcome.tries) == (200, "PANEL-1", 1)
    assert outcome.channel == "sandbox"
    assert (
        stats(http, sandbox)["received"]["dlv_01JD0000000000000000000001"]["scheme"] == scheme.value
    )


def test_the_hash_reported_is_the_hash_of_the_bytes_the_receiver_got(http, sandbox):
    delivery = make_delivery(document="rapid_review", payload=uploaded_document_payload())
    outcome = sandbox_channel(sandbox.url_for("panel")).send(delivery)
    received = stats(http, sandbox)["received"][delivery.delivery_id]
    assert received["sha256"] == outcome.sent_sha256
    assert received["size"] == outcome.sent_bytes


def test_a_resent_delivery_is_acknowledged_once_with_the_same_reference(http, sandbox):
    channel = sandbox_channel(sandbox.url_for("panel"))
    first = channel.send(make_delivery())
    other = channel.send(make_delivery(delivery_id="dlv_other"))
    again = channel.send(make_delivery())
    assert (first.reference, other.reference, again.reference) == ("PANEL-1", "PANEL-2", "PANEL-1")
    assert first.sent_sha256 == again.sent_sha256
    panel = stats(http, sandbox)
    assert (panel["count"], panel["ids"], panel["requests"]) == (
        2,
        ["dlv_01JD0000000000000000000001", "dlv_other"],
        3,
    )
    assert panel["received"]["dlv_01JD0000000000000000000001"]["duplicates"] == 1


def test_quick_tries_recover_when_the_fault_clears(http, sandbox):
    add_fault(http, sandbox, addressee="panel", status=503, times=2)
    sleeps = Sleeps()
    outcome = sandbox_channel(sandbox.url_for("panel"), retry=quick(3, sleeps)).send(
        make_delivery()
    )
    assert (outcome.kind, outcome.tries, outcome.reference) == (
        OutcomeKind.ACKNOWLEDGED,
        3,
        "PANEL-1",
    )
    assert len(sleeps.waits) == 2
    assert (stats(http, sandbox)["count"], stats(http, sandbox)["requests"]) == (1, 3)


def test_quick_tries_exhausted_leave_a_transient_outcome(http, sandbox):
    add_fault(http, sandbox, addressee="*", status=502)
    outcome = sandbox_channel(sandbox.url_for("panel"), retry=quick(2)).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.TRANSIENT, 502, 2)
    assert stats(http, sandbox)["count"] == 0


def test_a_5xx_that_http_status_does_not_name_is_transient(http, sandbox):
    add_fault(http, sandbox, addressee="panel", status=520, times=1)
    outcome = sandbox_channel(sandbox.url_for("panel"), retry=quick(1)).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.TRANSIENT, 520, 1)
    assert stats(http, sandbox)["count"] == 0


def test_a_long_retry_after_from_the_receiver_is_returned_for_rescheduling(http, sandbox):
    add_fault(http, sandbox, addressee="panel", status=429, retry_after=120, times=1)
    outcome = sandbox_channel(sandbox.url_for("panel")).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.retry_after, outcome.tries) == (
        OutcomeKind.TRANSIENT,
        429,
        120.0,
        1,
    )


def test_a_permanent_refusal_is_not_retried(http, sandbox):
    add_fault(http, sandbox, addressee="panel", status=400)
    outcome = sandbox_channel(sandbox.url_for("panel")).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.PERMANENT, 400, 1)
    assert stats(http, sandbox)["requests"] == 1


def test_a_response_slower_than_the_read_timeout_is_transient(http, sandbox):
    add_fault(http, sandbox, addressee="panel", delay=1.0)
    channel = sandbox_channel(sandbox.url_for("panel"), retry=quick(1), read_timeout=0.2)
    outcome = channel.send(make_delivery())
    assert (outcome.kind, outcome.status) == (OutcomeKind.TRANSIENT, None)
    assert "ReadTimeout" in outcome.detail


def test_a_reset_connection_is_transient(http, sandbox):
    add_fault(http, sandbox, addressee="panel", reset=True, times=1)
    outcome = sandbox_channel(sandbox.url_for("panel"), retry=quick(1)).send(make_delivery())
    assert (outcome.kind, outcome.status) == (OutcomeKind.TRANSIENT, None)


def test_a_reset_then_recovery_within_the_quick_tries(http, sandbox):
    add_fault(http, sandbox, addressee="panel", reset=True, times=1)
    outcome = sandbox_channel(sandbox.url_for("panel"), retry=quick(2)).send(make_delivery())
    assert (outcome.kind, outcome.tries) == (OutcomeKind.ACKNOWLEDGED, 2)


def test_a_refused_connection_is_transient():
    url = f"http://127.0.0.1:{free_port()}/panel"
    outcome = sandbox_channel(url, retry=quick(2)).send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.TRANSIENT, None, 2)
    assert "ConnectError" in outcome.detail


def test_a_wrong_key_is_refused_by_the_receiver_as_permanent(http, sandbox):
    from adapter.delivery.https import SandboxChannel
    from adapter.delivery.signing import SigningKey, new_key

    channel = SandboxChannel(
        "panel",
        sandbox.url_for("panel"),
        signing_keys=[SigningKey.parse(new_key(Scheme.V1A)[0])],
        retry=quick(),
    )
    outcome = channel.send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.PERMANENT, 401, 1)
    assert stats(http, sandbox)["count"] == 0


def test_the_https_channel_reaches_a_loopback_receiver_over_plain_http(http, sandbox):
    channel = sandbox_channel(sandbox.url_for("ofsted"), addressee="ofsted", https=True)
    outcome = channel.send(make_delivery(addressee="ofsted"))
    assert (outcome.channel, outcome.reference) == ("https", "OFSTED-1")
