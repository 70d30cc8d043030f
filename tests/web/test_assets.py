"""GOV.UK Frontend assets, the pages without them, error pages, security headers, UK times."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from adapter.app import create_app
from adapter.web import assets, formatting
from tests.support.service import Service
from tests.web.conftest import World

INSTALLED = (assets.REPOSITORY_ROOT / assets.DIST_SUBPATH / "govuk-frontend.min.css").exists()
needs_npm = pytest.mark.skipif(not INSTALLED, reason="GOV.UK Frontend is not installed (npm ci)")


@needs_npm
def test_the_stylesheet_script_fonts_and_images_are_served(world: World) -> None:
    client = world.service.app.test_client()
    with client.get("/admin/govuk-frontend/govuk-frontend.min.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
        assert css.headers["Cache-Control"] == "public, max-age=3600"
    for path in (
        "/admin/govuk-frontend/govuk-frontend.min.js",
        "/assets/fonts/bold-b542beb274-v2.woff2",
        "/assets/images/favicon.svg",
    ):
        with client.get(path) as response:
            assert response.status_code == 200, path
    page = client.get("/admin/sign-in").get_data(as_text=True)
    assert "/admin/govuk-frontend/govuk-frontend.min.css" in page
    assert 'src="/admin/static/init.mjs"' in page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/govuk-frontend/package.json",
        "/admin/govuk-frontend/index.scss",
        "/assets/../../package.json",
        "/assets/%2e%2e/govuk-frontend.min.css",
    ],
)
def test_nothing_else_from_node_modules_is_served(world: World, path: str) -> None:
    assert world.service.app.test_client().get(path).status_code == 404


def test_without_node_modules_the_pages_render_unstyled_with_a_warning(
    service: Service, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="adapter.web.assets"):
        app = create_app(
            {"GOVUK_FRONTEND_DIR": str(tmp_path / "absent")}, settings=service.settings
        )
    assert "GOV.UK Frontend is not installed (run `npm ci`" in caplog.text
    client = app.test_client()
    page = client.get("/admin/sign-in")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "govuk-frontend.min.css" not in html and "init.mjs" not in html
    assert '<h1 class="govuk-heading-l">Sign in</h1>' in html
    assert client.get("/admin/govuk-frontend/govuk-frontend.min.css").status_code == 404


def test_pages_send_security_headers(world: World) -> None:
    response = world.client("admin").get("/admin/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_errors_are_html_pages_not_problem_details(world: World) -> None:
    client = world.client("admin")
    missing = client.get("/admin/incidents/no-such-incident")
    assert missing.status_code == 404 and missing.mimetype == "text/html"
    assert "Page not found" in missing.get_data(as_text=True)
    assert client.get("/admin/sign-out").status_code == 405


def test_the_api_still_answers_problem_details(world: World) -> None:
    response = world.service.app.test_client().get("/api/v1/deliveries")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (dt.datetime(2026, 1, 15, 14, 5, tzinfo=dt.UTC), "15 January 2026 at 2:05pm GMT"),
        (dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC), "2 July 2026 at 12:30am BST"),
        (dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC), "29 March 2026 at 12:59am GMT"),
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC), "29 March 2026 at 2:00am BST"),
    ],
)
def test_times_are_shown_in_uk_time(moment: dt.datetime, shown: str) -> None:
    assert formatting.london_time(moment) == shown
    assert formatting.london_iso(moment.isoformat().replace("+00:00", "Z")) == shown


def test_dates_ages_and_codes_read_as_words() -> None:
    assert formatting.london_date(dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)) == "1 July 2026"
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    assert formatting.age(now - dt.timedelta(hours=3, minutes=5), now) == "3 hours"
    assert formatting.age(now - dt.timedelta(seconds=20), now) == "less than a minute"
    assert formatting.words("looked_after_child_death_notification") == (
        "Looked after child death notification"
    )
    assert formatting.short_id("27733100-58e3-42cb-9166-8b89ef8b1cbd") == "27733100…"
