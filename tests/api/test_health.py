"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from flask import Flask

from adapter.api import create_app
from tests.support.api import API, new_record, submit
from tests.support.service import Service

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: every connection is refused at once."""


def app_without_redis(service: Service) -> Flask:
    """The service's app, on the service's database, with Redis unreachable."""
    app = create_app(settings=service.settings.with_overrides(redis_url=CLOSED_PORT_REDIS))
    app.extensions["csins"].database.dispose()
    app.extensions["csins"].database = service.database
    return app


def test_healthz_answers_ok_without_a_key(service: Service) -> None:
    response = service.client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {}}


def test_readyz_checks_the_database_and_redis(service: Service) -> None:
    response = service.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


def test_readyz_is_503_when_redis_is_unreachable(service: Service) -> None:
    response = app_without_redis(service).test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error: ")


def test_a_submission_still_succeeds_when_redis_is_unreachable(service: Service) -> None:
    """DESIGN.md §2: the outbox row is the truth; the sweeper enqueues what Redis missed."""
    key = service.key()
    response = (
        app_without_redis(service)
        .test_client()
        .post(f"{API}/incidents", json=new_record(), headers={"Authorization": f"Bearer {key}"})
    )
    assert response.status_code == 201
    assert {d["status"] for d in response.get_json()["deliveries"]} == {"queued"}


def test_metrics_count_deliveries_and_deadlines(service: Service, la_key: str) -> None:
    submit(service, la_key)
    response = service.client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert 'csins_deliveries{addressee="panel",status="queued"} 1' in lines
    assert 'csins_deliveries{addressee="ofsted",status="queued"} 1' in lines
    assert any(line.startswith("csins_deadlines{status=") for line in lines)
    assert "# TYPE csins_deliveries gauge" in lines
