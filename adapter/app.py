"""The composition root: :func:`create_app` builds the web application from defaults, then
settings (YAML and environment), then test overrides, and mounts the two sibling blueprints,
the REST API (:mod:`adapter.api`) and the admin pages (:mod:`adapter.web`), over what they share
(:mod:`adapter.http`). Flask's tutorial ``flaskr/__init__.py`` has the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from adapter import api, web
from adapter.api.bodies import MAX_JSON_BYTES, refuse_unstorable_url
from adapter.http import problems, resources
from adapter.store.publishing import Publisher
from config.settings import Settings, load_settings


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
    api.init_app(app)
    web.init_app(app)
    return app
