"""GOV.UK Frontend's compiled CSS, JavaScript, fonts and images, served from ``node_modules``.

``npm ci`` at the repository root installs the ``govuk-frontend`` package (no CDN: the pages work
on a closed network). Its stylesheet asks for fonts and images under ``/assets/``, so that path is
served as the package publishes it; the stylesheet and script themselves are served under
``/admin/govuk-frontend/``. Without ``node_modules`` the pages still render, unstyled, and a
warning says how to fix it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, send_from_directory

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding ``package.json`` (and ``node_modules`` after ``npm ci``)."""

DIST_SUBPATH = Path("node_modules") / "govuk-frontend" / "dist" / "govuk"
"""Where the ``govuk-frontend`` package keeps its compiled files."""

CONFIG_KEY = "GOVUK_FRONTEND_DIR"
"""App config naming the ``dist/govuk`` folder explicitly (e.g. in a container image)."""

SERVED_FILES = frozenset(
    {
        "govuk-frontend.min.css",
        "govuk-frontend.min.css.map",
        "govuk-frontend.min.js",
        "govuk-frontend.min.js.map",
    }
)
"""The compiled files served from ``dist/govuk`` itself (everything else stays private)."""

CACHE_SECONDS = 3600
"""How long (seconds) browsers may cache a GOV.UK Frontend file."""

_EXTENSION = "csins.web.govuk_frontend"

log = logging.getLogger(__name__)

blp = Blueprint("govuk_frontend", __name__)


def find_dist(app: Flask) -> Path | None:
    """The ``dist/govuk`` folder to serve, or None when GOV.UK Frontend is not installed."""
    configured = app.config.get(CONFIG_KEY)
    candidates = (
        [Path(configured)]
        if configured
        else [
            REPOSITORY_ROOT / DIST_SUBPATH,
            Path.cwd() / DIST_SUBPATH,
        ]
    )
    for candidate in candidates:
        if (candidate / "govuk-frontend.min.css").is_file():
            return candidate.resolve()
    return None


def init_app(app: Flask) -> None:
    """Find the package once, warn if it is missing, and register the routes that serve it."""
    dist = find_dist(app)
    app.extensions[_EXTENSION] = dist
    if dist is None:
        log.warning(
            "GOV.UK Frontend is not installed (run `npm ci` in %s): the admin pages "
            "will render without styles",
            REPOSITORY_ROOT,
        )
    app.register_blueprint(blp)


def available() -> bool:
    """Whether the pages can link the GOV.UK Frontend stylesheet and script."""
    return current_app.extensions.get(_EXTENSION) is not None


def _dist() -> Path:
    dist: Path | None = current_app.extensions.get(_EXTENSION)
    if dist is None:
        abort(404)
    return dist


@blp.route("/assets/<path:filename>")
def asset(filename: str) -> Response:
    """Fonts, images and the manifest, where the stylesheet expects them."""
    return send_from_directory(_dist() / "assets", filename, max_age=CACHE_SECONDS)


@blp.route("/admin/govuk-frontend/<filename>")
def compiled(filename: str) -> Response:
    """The compiled stylesheet and script (and their source maps)."""
    if filename not in SERVED_FILES:
        abort(404)
    return send_from_directory(_dist(), filename, max_age=CACHE_SECONDS)
