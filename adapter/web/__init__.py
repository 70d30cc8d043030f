"""The admin and compliance pages (DESIGN.md §7): server-rendered, styled with GOV.UK Frontend.

    blueprint.py        the ``admin`` blueprint: templates, CSRF, error pages, security headers
    sessions.py         sign-in with an admin or compliance key; the session cookie's policy
    secret.py           the cookie-signing secret kept in the data dir
    assets.py           GOV.UK Frontend's CSS, JS, fonts and images from ``node_modules``
    pages_auth.py       sign in, sign out
    pages_queues.py     dashboard (queues, worker heartbeats), deliveries, retry
    pages_incidents.py  deadlines, incidents, an incident's timeline
    pages_imports.py    imports running in the background, with their progress
    pages_receipts.py   receipts: verification, JSON download, printable page
    pages_audit_log.py  the audit log
    pages_submissions.py  submissions to make on the national online service (csins), recorded
    queries.py  workers.py  filters.py  formatting.py   what the pages read and how they write it

``create_app`` calls :func:`init_app` after the API blueprints are registered.
"""

from __future__ import annotations

from flask import Flask

from adapter.http import problems
from adapter.http.resources import resources
from adapter.web import assets, formatting, sessions
from adapter.web.blueprint import TEMPLATE_CACHE, bp, csrf, page_for_error
from adapter.web.secret import load_or_create_secret

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Add the pages to ``app``: secret key, cookie policy, CSRF, assets, the blueprint, and
    HTML error pages for every ``/admin/`` address."""
    with app.app_context():
        settings = resources().settings
    if not app.config.get("SECRET_KEY"):
        app.secret_key = settings.web_secret or load_or_create_secret(settings.data_dir)
    sessions.configure(app, settings.cookie_secure)
    # CSRF is checked by the pages' own blueprint only: the API takes bearer keys, not cookies.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A token lives as long as the session: a page left open for an hour still works.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    formatting.init_app(app)
    if app.jinja_env.bytecode_cache is None:
        app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    assets.init_app(app)

    # Importing a page module adds its routes to ``bp`` (once per process, before registering).
    from adapter.web import (  # noqa: F401
        pages_audit_log,
        pages_auth,
        pages_feeds,
        pages_imports,
        pages_incidents,
        pages_queues,
        pages_receipts,
        pages_submissions,
    )

    app.register_blueprint(bp)
    # Errors no route of the blueprint sees (a 404, a 405, a NUL in the path) are pages too.
    problems.answer_with_pages(app, bp.url_prefix or "/admin", page_for_error)
