"""``/healthz`` (the process answers), ``/readyz`` (the database answers), ``/metrics``.

The first two are open, for load balancers, and say only ``ok`` or the name of an error class.
``/readyz`` reports Redis and the cron scheduler too, but only as ``degraded``: the API takes
incidents without them (the outbox is in the database; the sweeper enqueues what could not be).
``/metrics`` counts records, so it takes an ``admin`` or ``compliance`` key and counts the key's
LA only (every LA for an admin key created with ``--la '*'``), like every other query (§7).
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_smorest import Blueprint
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from adapter.api.auth import principal, requires
from adapter.api.metric_families import ScopedCollector
from adapter.http.resources import resources
from adapter.queue import connect, scheduler_running
from schemas.api import HealthSchema

blp = Blueprint("health", __name__, description="Liveness, readiness and metrics")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.doc(security=[])
def healthz() -> Any:
    """The process is up (no dependency is checked)."""
    return {"status": "ok", "checks": {}}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database does not answer")
@blp.doc(security=[])
def readyz() -> Any:
    """Ready to serve when the database answers; Redis is reported, but does not decide.

    Without Redis the API still takes incidents (the enqueue after a commit is best-effort and
    the sweeper enqueues what it missed, DESIGN.md §2): then the status is ``degraded``, still
    200, so that a load balancer does not take every instance out because Redis alone is down.
    """
    res = resources()
    checks: dict[str, str] = {}
    try:
        with res.transaction() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError as error:
        checks["database"] = f"error: {type(error).__name__}"
    try:
        redis = connect(res.settings)
        redis.ping()
        checks["redis"] = "ok"
        # Without a cron scheduler nothing sweeps the outbox or checks deadlines (§2).
        checks["scheduler"] = "ok" if scheduler_running(redis) else "none running"
    except RedisError as error:
        checks["redis"] = f"error: {type(error).__name__}"
    if checks["database"] != "ok":
        return {"status": "unavailable", "checks": checks}, 503
    degraded = any(value != "ok" for value in checks.values())
    return {"status": "degraded" if degraded else "ok", "checks": checks}, 200


METRICS_ROLES = ("admin", "compliance")
"""Roles whose keys may scrape ``/metrics``: those that watch queues and deadlines (§7)."""


@blp.route("/metrics", methods=["GET"])
@blp.doc(
    security=[{"bearer": []}],
    responses={"200": {"description": "Prometheus text format", "content": {"text/plain": {}}}},
)
@requires(*METRICS_ROLES)
def metrics() -> Response:
    """Deliveries, deadlines, submission latency, delivery attempt time and open assisted
    submissions (Prometheus text format, through ``prometheus_client``).

    Counts only, never personal data, and only of the key's LA: an ``admin`` or ``compliance``
    key (``Authorization: Bearer <key>``); an admin key for every LA counts every LA.
    """
    res, la_scope = resources(), principal().la_scope
    registry = CollectorRegistry(auto_describe=False)
    with res.transaction() as session:
        registry.register(ScopedCollector(session, la_scope))
        body = generate_latest(registry)
    return Response(body, mimetype="text/plain", content_type=CONTENT_TYPE_LATEST)
