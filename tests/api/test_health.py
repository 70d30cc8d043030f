"""/healthz and /readyz (open, for load balancers) and /metrics (an admin or compliance key)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from adapter.app import create_app
from adapter.store.database import Database
from tests.support.api import API, OTHER_LA, assert_problem, new_record, submit
from tests.support.service import Service, hand_over_to_a_person

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: every connection is refused at once."""

CLOSED_PORT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:1/csins"
"""A database server that refuses every connection at once, whatever the tests' backend."""


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


def test_readyz_checks_the_database_redis_and_the_scheduler(service: Service) -> None:
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=service.redis)
    scheduler.register_birth()  # a `csins-adapter scheduler` running, as RQ's registry sees it
    response = service.client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "scheduler": "ok"},
    }


def test_readyz_says_degraded_when_no_scheduler_runs(service: Service) -> None:
    """DESIGN.md §2 names web and workers; without a cron scheduler as well, nothing sweeps the
    outbox or checks deadlines, and that must show where operators look."""
    response = service.client.get("/readyz")
    assert response.status_code == 200  # the API itself works: keep the instance
    assert response.get_json() == {
        "status": "degraded",
        "checks": {"database": "ok", "redis": "ok", "scheduler": "none running"},
    }


def test_readyz_is_ready_but_degraded_when_redis_is_unreachable(service: Service) -> None:
    """Without Redis the API still takes incidents (next test): a load balancer must keep the
    instance, so readiness is 200, and the body says what is wrong."""
    response = app_without_redis(service).test_client().get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"] == "ok"
    # An error class's name, never its message: no host, port or URL of the deployment.
    assert re.fullmatch(r"error: \w+", body["checks"]["redis"])
    assert "127.0.0.1" not in response.get_data(as_text=True)


@pytest.mark.parametrize("redis", ["answers", "unreachable"])
def test_readyz_is_503_when_the_database_is_unreachable(service: Service, redis: str) -> None:
    settings = service.settings
    if redis == "unreachable":
        settings = settings.with_overrides(redis_url=CLOSED_PORT_REDIS)
    app = create_app(settings=settings)
    app.extensions["csins"].database.dispose()
    unreachable = app.extensions["csins"].database = Database()
    unreachable.configure(settings, url=CLOSED_PORT_DATABASE, keyring=service.database.keyring)
    try:
        response = app.test_client().get("/readyz")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert re.fullmatch(r"error: \w+", body["checks"]["database"])
    if redis == "answers":
        assert body["checks"]["redis"] == "ok"
    else:
        assert re.fullmatch(r"error: \w+", body["checks"]["redis"])
    assert "127.0.0.1" not in response.get_data(as_text=True)


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


def metric_lines(service: Service, key: str) -> list[str]:
    """The lines ``/metrics`` answers to ``key`` (asserting it answered in the text format)."""
    response = service.client.get("/metrics", headers=service.headers(key))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return response.get_data(as_text=True).splitlines()


@pytest.mark.parametrize("role", ["admin", "compliance"])
def test_metrics_count_deliveries_and_deadlines(service: Service, la_key: str, role: str) -> None:
    submit(service, la_key)
    lines = metric_lines(service, service.key(role, "812"))
    assert 'csins_deliveries{addressee="panel",status="queued"} 1.0' in lines
    assert 'csins_deliveries{addressee="ofsted",status="queued"} 1.0' in lines
    assert any(line.startswith("csins_deadlines{status=") for line in lines)
    assert "# TYPE csins_deliveries gauge" in lines


def test_metrics_count_only_the_keys_la(service: Service) -> None:
    """§7: no key learns anything of another LA's records, not even how many there are."""
    submit(service, service.key("local_authority", "812"), new_record("812"))
    for _ in range(2):
        submit(service, service.key("local_authority", OTHER_LA), new_record(OTHER_LA))
    panel = 'csins_deliveries{addressee="panel",status="queued"}'

    def deadlines(lines: list[str]) -> int:
        return sum(
            int(float(line.split()[-1])) for line in lines if line.startswith("csins_deadlines{")
        )

    counted = {
        scope: metric_lines(service, service.key(role, scope))
        for role, scope in (("compliance", "812"), ("admin", OTHER_LA), ("admin", "*"))
    }
    assert f"{panel} 1.0" in counted["812"]
    assert f"{panel} 2.0" in counted[OTHER_LA]
    assert f"{panel} 3.0" in counted["*"]
    assert 2 * deadlines(counted["812"]) == deadlines(counted[OTHER_LA]) > 0
    assert deadlines(counted["*"]) == 3 * deadlines(counted["812"])


def test_metrics_of_an_la_without_records_count_nothing(service: Service) -> None:
    submit(service, service.key("local_authority", OTHER_LA), new_record(OTHER_LA))
    service.work()
    samples = [line for line in metric_lines(service, service.key("admin")) if line[0] != "#"]
    assert samples and all(float(line.split()[-1]) == 0 for line in samples)


def test_metrics_time_submissions_and_attempts_and_count_waiting_submissions(
    service: Service, la_key: str
) -> None:
    """Issue 18: histograms of submission latency and attempt time, a gauge per addressee of
    what waits for a person (deliveries routed to ``csins`` and not yet acknowledged)."""
    submit(service, la_key)
    service.work()  # three deliveries acknowledged, one try each
    hand_over_to_a_person(service, submit(service, la_key)["id"])  # three more waiting
    lines = metric_lines(service, service.key("compliance", "812"))
    assert "# TYPE csins_submission_latency_seconds histogram" in lines
    assert 'csins_submission_latency_seconds_bucket{le="+Inf"} 3.0' in lines
    assert "csins_submission_latency_seconds_count 3.0" in lines
    assert 'csins_delivery_attempt_seconds_bucket{le="+Inf"} 3.0' in lines
    assert 'csins_delivery_attempt_seconds_bucket{le="60.0"} 3.0' in lines
    assert "# TYPE csins_open_assisted_submissions gauge" in lines
    for addressee in ("panel", "secretary_of_state", "ofsted"):
        assert f'csins_open_assisted_submissions{{addressee="{addressee}"}} 1.0' in lines


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer csins_000000000000_nope"]
)
def test_metrics_without_a_valid_key_are_401(service: Service, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = service.client.get("/metrics", headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ["local_authority", "agency"])
def test_metrics_are_403_for_the_other_roles(service: Service, role: str) -> None:
    problem = assert_problem(service.get("/metrics", service.key(role, "812")), 403)
    assert role in problem["detail"]


def test_the_openapi_document_says_which_endpoints_take_a_key(service: Service) -> None:
    paths = service.client.get("/api/openapi.json").get_json()["paths"]
    assert paths["/metrics"]["get"]["security"] == [{"bearer": []}]
    assert paths["/healthz"]["get"]["security"] == []
    assert paths["/readyz"]["get"]["security"] == []
