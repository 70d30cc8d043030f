"""The web application: ``create_app()`` builds it from settings; blueprints live beside it.

problems.py   RFC 9457 problem details for every error
spec.py       flask-smorest Api: OpenAPI 3 at /api/openapi.json, Swagger UI at /api/docs
resources.py  settings and database held by the app;  auth.py  bearer keys and roles
incidents.py  deadlines.py  deliveries.py  imports.py  receipts.py  health.py  the endpoints
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from adapter.api import problems, resources, spec
from adapter.api.bodies import MAX_JSON_BYTES, refuse_unstorable_url
from adapter.store.publishing import Publisher
from config.settings import Settings, load_settings
from schemas.events import EventSchema
from schemas.incident import IncidentRecordSchema


def create_app(
    overrides: Mapping[str, Any] | None = None,
    *,
    settings: Settings | None = None,
    publisher: Publisher | None = None,
) -> Flask:
    """Build the app: defaults, then settings (YAML and env), then ``overrides`` (tests);
    ``publisher`` puts committed work on the queues (RQ on the settings' Redis by default)."""
    settings = settings or load_settings()
    app = Flask("adapter")
    app.config.update(
        # The largest request: an export upload (multipart adds a little) or a JSON body.
        MAX_CONTENT_LENGTH=max(settings.max_export_bytes + 1024 * 1024, MAX_JSON_BYTES),
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides or {})
    if settings.trusted_proxies:
        # The scheme, host and client address the trusted proxies report; anyone else's
        # X-Forwarded-* headers are ignored (CSINS_TRUSTED_PROXIES).
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    problems.init_app(app)
    app.before_request(refuse_unstorable_url)
    resources.init_app(app, settings, publisher)
    api = spec.init_app(app)
    api.spec.components.schema("IncidentRecord", schema=IncidentRecordSchema)
    api.spec.components.schema("Event", schema=EventSchema)

    from adapter.api import (
        checkpoints,
        deadline_feed,
        deadlines,
        deliveries,
        health,
        imports,
        incidents,
        receipts,
    )

    for blueprint in (
        health.blp,
        incidents.blp,
        imports.blp,
        deadlines.blp,
        deadline_feed.blp,
        deliveries.blp,
        checkpoints.blp,  # before receipts: /receipts/checkpoints is not a receipt id
        receipts.blp,
    ):
        api.register_blueprint(blueprint)

    from adapter import web

    web.init_app(app)
    return app
