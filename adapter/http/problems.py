"""One error envelope at the HTTP edge: RFC 9457 ``application/problem+json``.

Every error leaves through :func:`problem_response`: HTTP exceptions (including flask-smorest's
422 for a body that fails its schema), the service's own :class:`~adapter.errors.CsinsError`
subclasses, and anything unexpected (a 500 that says nothing about the internals). The one
exception is an address a page blueprint claimed with :func:`answer_with_pages` (``/admin/``):
its errors are that blueprint's HTML pages, for people, even when no route of it matched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, json, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response as BaseResponse

from adapter import errors
from adapter.service import casework, roles
from adapter.store import errors as store_errors
from schemas.fields import flatten

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:csins-adapter:problem:"

ErrorPage = Callable[[Exception], BaseResponse]
"""Renders an error of a page address as an HTML page, with the error's status."""

_PAGES = "csins.error_pages"
"""``app.extensions`` key: ``{address prefix: ErrorPage}`` of the page blueprints."""

_E = TypeVar("_E", bound=Exception)

log = logging.getLogger(__name__)


class ApiProblem(errors.CsinsError):
    """An error a view raises on purpose, with its HTTP status and a problem type slug."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        field_errors: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail = status, slug, detail
        self.field_errors = list(field_errors)
        self.headers = dict(headers or {})


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    field_errors: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem-details response; ``slug`` names the problem type (``about:blank`` when None)."""
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "instance": request.path,
    }
    if detail:
        body["detail"] = detail
    pairs = [{"field": field, "message": message} for field, message in field_errors]
    if pairs:
        body["errors"] = pairs
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(headers or {})
    return response


def _from_http(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    field_errors: list[tuple[str, str]] = []
    if isinstance(messages, Mapping):
        # webargs nests by location ({"json": {...}}); the location is noise for a client.
        for location, nested in messages.items():
            is_location = location in {"json", "query", "form", "files", "headers", "view_args"}
            field_errors += flatten(nested) if is_location else flatten({location: nested})
    status = error.code or 500
    detail = data.get("message") or (error.description if status != 422 else None)
    if status == 422 and not detail:
        detail = "The request body or parameters failed validation; see errors."
    # The exception's own headers matter: a 405 must say which methods are Allowed (RFC 9110).
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return problem_response(
        status,
        error.name,
        detail,
        slug="validation" if field_errors else None,
        field_errors=field_errors,
        headers=headers,
    )


_STATUSES: tuple[tuple[type[errors.CsinsError], int, str, str], ...] = (
    # Most specific first: the first matching class decides.
    (errors.InvalidRecord, 422, "Invalid record", "invalid-record"),
    (errors.ExportTooLarge, 413, "Export too large", "export-too-large"),
    (errors.ExportError, 422, "Unreadable export", "unreadable-export"),
    (errors.EventRefused, 409, "Event refused", "event-refused"),
    (errors.CalendarRangeError, 422, "Date outside the known calendar", "calendar-range"),
    (store_errors.OutOfScope, 403, "Forbidden", "out-of-scope"),
    (store_errors.RecordMismatch, 422, "Record mismatch", "record-mismatch"),
    (store_errors.InvalidCursor, 400, "Bad cursor", "bad-cursor"),
    (roles.NotAllowed, 403, "Forbidden", "forbidden"),
    (casework.RecordConflict, 409, "Conflict", "conflict"),
)
"""HTTP status, title and problem slug of each of the service's own errors."""


def _status_of(error: errors.CsinsError) -> tuple[int, str, str]:
    if isinstance(error, ApiProblem):
        return error.status, _title(error.status), error.slug
    for kind, status, title, slug in _STATUSES:
        if isinstance(error, kind):
            return status, title, slug
    raise error  # an internal error (encryption, configuration): the 500 handler answers


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _from_service(error: errors.CsinsError) -> Response:
    try:
        status, title, slug = _status_of(error)
    except errors.CsinsError:
        return _unexpected(error)
    pairs: list[tuple[str, str]] = []
    if isinstance(error, errors.InvalidRecord):
        pairs = error.problems
    elif isinstance(error, ApiProblem):
        pairs = error.field_errors
    headers = error.headers if isinstance(error, ApiProblem) else None
    detail = error.detail if isinstance(error, ApiProblem) else str(error)
    if isinstance(error, errors.InvalidRecord):
        detail = "The record failed validation; see errors."
    return problem_response(status, title, detail, slug=slug, field_errors=pairs, headers=headers)


def _from_validation(error: ValidationError) -> Response:
    return problem_response(
        422,
        "Unprocessable Content",
        "Validation failed; see errors.",
        slug="validation",
        field_errors=flatten(
            error.messages_dict if isinstance(error.messages, dict) else {"_schema": error.messages}
        ),
    )


def _unexpected(error: Exception) -> Response:
    """A 500 that says nothing of the internals, logged without the error's message."""
    log.error(
        "unhandled error on %s %s: %s",
        request.method,
        request.path,
        errors.without_message(error),
    )
    return _from_http(InternalServerError())


def answer_with_pages(app: Flask, prefix: str, page: ErrorPage) -> None:
    """Errors of addresses under ``prefix`` answer with ``page(error)``, not a problem.

    A blueprint's own error handlers see only the errors of its routes; a 404 or 405 matches no
    route, and an app-wide check (a NUL in the path) refuses a request before routing, so those
    errors reach the app's handlers here, which must still answer a page for the pages' address.
    """
    app.extensions.setdefault(_PAGES, {})[prefix.rstrip("/")] = page


def _page_for(path: str) -> ErrorPage | None:
    pages: dict[str, ErrorPage] = current_app.extensions.get(_PAGES, {})
    for prefix, page in pages.items():
        if path == prefix or path.startswith(f"{prefix}/"):
            return page
    return None


def _problem_unless_page(answer: Callable[[_E], Response]) -> Callable[[_E], BaseResponse]:
    """``answer`` (a problem), except under an address claimed by :func:`answer_with_pages`."""

    @wraps(answer)
    def handler(error: _E) -> BaseResponse:
        page = _page_for(request.path)
        return answer(error) if page is None else page(error)

    return handler


def init_app(app: Flask) -> None:
    """Route every error of ``app`` through the problem-details envelope (or a claimed page)."""
    app.register_error_handler(HTTPException, _problem_unless_page(_from_http))
    app.register_error_handler(errors.CsinsError, _problem_unless_page(_from_service))
    app.register_error_handler(ValidationError, _problem_unless_page(_from_validation))
    app.register_error_handler(Exception, _problem_unless_page(_unexpected))
