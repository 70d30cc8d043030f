"""DESIGN.md §6 through a real worker: a receiver that fails for a while is retried until it
acknowledges; one that refuses fails the delivery, alerts, and is retried by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.e2e.conftest import CHANNEL_TIMEOUT_SECONDS, Stack, make_record

TRANSIENT_FAULTS = {
    "http-500": {"status": 500, "times": 2},
    "http-503-retry-after": {"status": 503, "retry_after": 2, "times": 1},
    "http-429": {"status": 429, "times": 2},
    "timeout": {"delay": CHANNEL_TIMEOUT_SECONDS + 1, "times": 1},
    "connection-reset": {"reset": True, "times": 2},
}


@pytest.mark.slow
@pytest.mark.parametrize("fault", TRANSIENT_FAULTS.values(), ids=TRANSIENT_FAULTS.keys())
def test_transient_fault_is_retried_until_acknowledged(stack: Stack, fault: dict[str, Any]) -> None:
    stack.fault(addressee="panel", **fault)
    stack.start_worker()
    ids = stack.submit(make_record())
    (delivery,) = stack.wait_acknowledged(ids)

    assert stack.sandbox.state.stats()["faults"] == []  # every faulty answer was used up
    attempts = stack.attempts(delivery.id)
    assert [a.outcome for a in attempts] == ["transient"] * fault["times"] + ["acknowledged"]
    assert delivery.attempts == fault["times"] + 1
    assert stack.requests("panel") == fault["times"] + 1
    stack.assert_delivered_once(ids)


@pytest.mark.slow
def test_retry_after_is_honoured(stack: Stack) -> None:
    """The next try comes no sooner than the addressee asked (§6: honour ``Retry-After``)."""
    stack.fault(addressee="panel", status=503, retry_after=3, times=1)
    stack.start_worker()
    ids = stack.submit(make_record())
    stack.wait_acknowledged(ids)

    first, second = stack.attempts(ids[0])
    assert (first.outcome, first.status_code) == ("transient", 503)
    assert first.finished_at is not None
    # A lower bound the scheduler guarantees, not a timing claim: the retry is due 3 s after the
    # refusal came back (which was after the first try started), and RQ keeps scheduled times
    # in whole seconds, so it may run up to 1 s before that, never earlier.
    assert second.started_at - first.started_at >= dt.timedelta(seconds=2)


@pytest.mark.slow
def test_refused_delivery_fails_alerts_and_is_retried_by_hand(stack: Stack) -> None:
    stack.fault(addressee="panel", status=400)  # until cleared
    worker = stack.start_worker()
    ids = stack.submit(make_record())
    (failed,) = stack.wait_status(ids, "failed")

    assert "400" in (failed.last_error or "")
    (alert,) = stack.alerts("delivery_failed")
    assert alert.object_id == failed.id
    assert alert.detail is not None and alert.detail["addressee"] == "panel"
    # §6 "a log event": the worker's own log says which delivery failed, where and why.
    (logged,) = [
        line for line in worker.log_tail(400).splitlines() if "alert delivery_failed" in line
    ]
    assert f"object_id={failed.id}" in logged and "addressee=panel" in logged
    assert stack.sandbox.state.stats()["addressees"]["panel"]["count"] == 0

    admin = stack.key(role="admin")
    refused = stack.client.post(
        f"/api/v1/deliveries/{failed.id}/retry", headers={"Authorization": f"Bearer {admin}"}
    )
    assert refused.status_code == 202  # accepted... and refused again while the fault lasts
    stack.wait_for(lambda: len(stack.attempts(failed.id)) == 2, "the second refusal")
    stack.wait_status(ids, "failed")

    stack.sandbox.state.clear_faults()
    response = stack.client.post(
        f"/api/v1/deliveries/{failed.id}/retry", headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 202, response.get_json()
    (delivery,) = stack.wait_acknowledged(ids)

    assert [a.outcome for a in stack.attempts(delivery.id)] == [
        "permanent",
        "permanent",
        "acknowledged",
    ]
    assert len(stack.alerts("delivery_failed")) == 2
    stack.assert_delivered_once(ids)


@pytest.mark.slow
def test_faults_on_one_addressee_do_not_hold_up_the_others(stack: Stack) -> None:
    """A looked-after child's death goes to three addressees; the Panel failing for a while
    delays only the Panel's delivery."""
    stack.fault(addressee="panel", status=503, times=3)
    stack.start_worker()
    ids = stack.submit(make_record(looked_after=True))
    assert len(ids) == 3
    rows = stack.wait_acknowledged(ids)

    by_addressee = {row.addressee: row for row in rows}
    assert by_addressee["panel"].attempts == 4
    assert by_addressee["ofsted"].attempts == by_addressee["secretary_of_state"].attempts == 1
    stack.assert_delivered_once(ids)
