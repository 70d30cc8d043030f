"""The alert webhook's one HTTP call (requests), its answers classified, with ``responses``."""

from __future__ import annotations

import logging

import pytest
import responses

from adapter.service import alerts

URL = "https://hooks.example.test/alerts"
FACTS = {"kind": alerts.DELIVERY_FAILED, "object_id": "d-1", "la_code": "812"}


@responses.activate
@pytest.mark.parametrize("status", [200, 202, 204])
def test_a_2xx_is_taken_quietly(status: int, caplog: pytest.LogCaptureFixture) -> None:
    responses.post(URL, status=status)
    alerts._post(URL, FACTS)
    assert caplog.records == []
    (call,) = responses.calls
    assert call.request.headers["Content-Type"] == "application/json"
    assert b'"object_id": "d-1"' in call.request.body


@responses.activate
@pytest.mark.parametrize("status", [302, 400, 500, 503])
def test_anything_else_is_a_refusal_logged_without_the_alert(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="csins.alerts")
    responses.post(URL, status=status, headers={"Location": "https://elsewhere.test/"})
    alerts._post(URL, FACTS)
    (record,) = caplog.records
    assert f"HTTP {status}" in record.getMessage() and "d-1" not in record.getMessage()
    assert len(responses.calls) == 1  # a redirect is not followed


@responses.activate
def test_the_webhook_is_given_its_timeout(caplog: pytest.LogCaptureFixture) -> None:
    responses.post(
        URL,
        status=204,
        match=[
            responses.matchers.request_kwargs_matcher({"timeout": alerts.ALERT_WEBHOOK_TIMEOUT})
        ],
    )
    alerts._post(URL, FACTS)
    assert len(responses.calls) == 1
