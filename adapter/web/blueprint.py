"""The ``admin`` blueprint every page hangs on: templates, CSRF, error pages, security headers.

Pages answer errors as HTML pages (the API's problem details are for machines), with the status
of the error: those of the pages' routes here, and every other error of an ``/admin/`` address
(no route matched, a method a route does not take, a NUL refused before routing) through
:func:`page_for_error`, which ``adapter.web.init_app`` hands to the app's handlers. Every form is
checked for its CSRF token (Flask-WTF) here rather than app-wide, so the bearer-key API, which
carries no cookie, is untouched. Responses forbid framing and caching: they show delivery state
that must be read fresh, and nothing of it should linger in a shared browser's cache.
"""

from __future__ import annotations

import logging
import re
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from jinja2.bccache import Bucket
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from adapter.errors import CsinsError, without_message
from adapter.http.problems import ApiProblem
from adapter.http.resources import resources
from adapter.store.errors import InvalidCursor, OutOfScope
from adapter.web.formatting import words

SERVICE_NAME = "Safeguarding incident notifications"
"""The service name in the navigation bar and page titles."""

HERE = Path(__file__).resolve().parent

log = logging.getLogger(__name__)

csrf = CSRFProtect()
"""Flask-WTF's CSRF checker; bound to the app by ``adapter.web.init_app``."""

bp = Blueprint(
    "admin", __name__, url_prefix="/admin", static_folder="static", static_url_path="/static"
)
bp.jinja_loader = ChoiceLoader(
    [
        FileSystemLoader(HERE / "templates"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ]
)


class ProcessBytecodeCache(BytecodeCache):
    """Compiled templates kept for the life of the process and shared by its apps.

    The GOV.UK macros take about a second to compile; a process that builds several apps (the
    tests build one per test) compiles them once. Buckets are keyed by the template's source
    checksum, so an edited template is compiled again.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        compiled = self._compiled.get(bucket.key)
        if compiled is not None:
            bucket.bytecode_from_string(compiled)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = ProcessBytecodeCache()
"""The process's compiled templates (``adapter.web.init_app`` gives it to each app)."""

_MESSAGES = {
    400: (
        "There is a problem with that request",
        "The link or form was not valid. Go back and try again.",
    ),
    403: (
        "You cannot do this",
        "Your key's role does not allow it. Ask an admin if you need it done.",
    ),
    404: (
        "Page not found",
        "It may have been moved, or it belongs to a local authority your key cannot see.",
    ),
    405: ("There is a problem with that request", "That page cannot be used like that."),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you sent has been lost.",
    ),
}


def error_page(status: int, title: str | None = None, detail: str | None = None) -> Response:
    """An HTML error page for ``status`` (a 4xx without its own words reads as a 400)."""
    fallback = _MESSAGES[400] if 400 <= status < 500 else _MESSAGES[500]
    default_title, default_detail = _MESSAGES.get(status, fallback)
    html = render_template(
        "admin/error.html",
        # Given here too: outside the blueprint's routes its context processor does not run.
        **_page_context(),
        title=title or default_title,
        detail=detail or default_detail,
        status=status,
    )
    return Response(html, status=status, mimetype="text/html")


def page_for_error(error: Exception) -> Response:
    """The page for any error of an ``/admin/`` address, even outside the blueprint's routes.

    The same page the blueprint's handlers answer, with the same security headers (its
    ``after_request`` runs only for its routes).
    """
    if isinstance(error, CSRFError):
        page = _csrf_failed(error)
    elif isinstance(error, HTTPException):
        page = _http_error(error)
    elif isinstance(error, CsinsError):
        page = _service_error(error)
    else:
        page = _unexpected(error)
    return _security_headers(page)


@bp.before_request
def _check_csrf() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


@bp.errorhandler(CSRFError)
def _csrf_failed(_error: CSRFError) -> Response:
    return error_page(
        400,
        "Your form could not be sent",
        "The page had expired or was not sent from this service. Go back, "
        "reload the page and try again.",
    )


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    page = error_page(error.code or 500)
    # The exception's own headers matter: a 405 must say which methods are Allowed (RFC 9110).
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            page.headers[name] = value
    return page


@bp.errorhandler(CsinsError)
def _service_error(error: CsinsError) -> Response:
    if isinstance(error, ApiProblem) and error.status < 500:
        # Raised by the app-wide checks the pages share with the API (a NUL in the URL):
        # the reader's mistake, answered with its status as a page.
        return error_page(error.status)
    if isinstance(error, InvalidCursor):
        return error_page(
            400,
            "That page link is not valid",
            "Go back to the first page of the list and try again.",
        )
    if isinstance(error, OutOfScope):
        return error_page(403)
    return _unexpected(error)


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    log.error("unhandled error on %s %s: %s", request.method, request.path, without_message(error))
    return error_page(500)


@bp.after_request
def _security_headers(response: Response) -> Response:
    nonce = csp_nonce()
    response.headers.setdefault(
        "Content-Security-Policy",
        (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; img-src 'self' data:; font-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
    )
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def addressee_names() -> dict[str, str]:
    """``{code: name}`` of the configured addressees (``config/addressees.yaml``)."""
    configured = resources().settings.addressees
    return {code: str(entry.get("name") or words(code)) for code, entry in configured.items()}


_CODE = re.compile(r"[a-z][a-z_]*[a-z]")


@bp.app_template_filter("readable")
def readable(summary: str) -> str:
    """A timeline line with its codes as words: ``rapid_review to panel`` → ``rapid review to
    Child Safeguarding Practice Review Panel``."""
    names = addressee_names()

    def word(match: re.Match[str]) -> str:
        code = match.group()
        if code in names:
            return names[code]
        return code.replace("_", " ")

    return _CODE.sub(word, summary)


def csp_nonce() -> str:
    """This request's nonce for the one inline script of the GOV.UK template."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    nonce: str = g.csp_nonce
    return nonce


@bp.context_processor
def _page_context() -> dict[str, Any]:
    from adapter.web import assets

    return {
        "service_name": SERVICE_NAME,
        "csp_nonce": csp_nonce(),
        "govuk_styles": assets.available(),
        # Set by the sign-in check; never looked up here, so an error page needs no database.
        "who": g.get("web_principal"),
        "current_endpoint": request.endpoint,
        "addressee_names": addressee_names(),
    }
