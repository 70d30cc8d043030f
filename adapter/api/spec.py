"""The flask-smorest ``Api``: OpenAPI 3 from the marshmallow schemas, errors as problem details."""

from __future__ import annotations

import copy
import http
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, render_template_string, send_from_directory
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from adapter import __version__
from adapter.http.problems import PROBLEM_JSON
from schemas.problem import ProblemSchema

F = TypeVar("F", bound=Callable[..., Any])

BAD_CURSOR = (400, "The cursor is not one this list issued")
"""What a paginated list answers a cursor it did not issue (``bad-cursor``)."""

OPENAPI_CONFIG: dict[str, Any] = {
    "API_TITLE": "csins-adapter",
    "API_VERSION": __version__,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Serious child safeguarding incident notifications (DESIGN.md §7)."
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `csins-adapter keys create`.",
                },
            }
        },
        "security": [{"bearer": []}],
    },
}


class ServiceApi(Api):  # type: ignore[misc]
    """Documents every error response as ``application/problem+json`` (RFC 9457).

    The error *handling* lives in :mod:`adapter.http.problems`, registered on the app itself so
    that errors outside the API blueprints share the same envelope.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Handled app-wide by :func:`adapter.http.problems.init_app` instead."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def problem_responses(*answers: int | tuple[int, str]) -> Callable[[F], F]:
    """Document the errors a view answers, each an ``application/problem+json`` problem.

    ``answers`` are statuses, or ``(status, description)`` saying when this view gives it. A
    status documented already (by :func:`adapter.api.auth.requires`, or an earlier use) keeps
    one entry: the descriptions are joined. Writes flask-smorest's ``_apidoc`` without wrapping
    the view, so it may sit anywhere below ``@blp.route``.
    """

    def document(view: F) -> F:
        doc: dict[str, Any] = copy.deepcopy(getattr(view, "_apidoc", {}))
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        for answer in answers:
            status, said = answer if isinstance(answer, tuple) else (answer, None)
            found = responses.setdefault(status, [])
            earlier = [entry for entry in found if isinstance(entry, dict) and "schema" in entry]
            phrase = http.HTTPStatus(status).phrase
            if earlier:
                before = earlier[0]["description"]
                if said:
                    earlier[0]["description"] = said if before == phrase else f"{before}. {said}"
                continue
            found.append(
                {
                    "description": said or phrase,
                    "schema": ProblemSchema,
                    "content_type": PROBLEM_JSON,
                }
            )
        setattr(view, "_apidoc", doc)  # noqa: B010 - what flask-smorest's decorators read
        return view

    return document


_DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>csins-adapter API</title>
<link rel="stylesheet" href="{{ url_for('api_docs.asset', filename='swagger-ui.css') }}"></head>
<body><div id="swagger-ui"></div>
<script src="{{ url_for('api_docs.asset', filename='swagger-ui-bundle.js') }}"></script>
<script src="{{ url_for('api_docs.initialiser') }}"></script>
</body></html>"""

_INITIALISER = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui", deepLinking: true});
};"""


def docs_blueprint() -> Blueprint:
    """``/api/docs``: Swagger UI served from the installed ``swagger-ui-bundle`` (no CDN)."""
    from swagger_ui_bundle import swagger_ui_path

    docs = Blueprint("api_docs", __name__, url_prefix="/api/docs")

    @docs.get("/")
    def page() -> str:
        return render_template_string(_DOCS_PAGE)

    @docs.get("/initialiser.js")
    def initialiser() -> Response:
        return Response(_INITIALISER % "/api/openapi.json", mimetype="text/javascript")

    @docs.get("/static/<path:filename>")
    def asset(filename: str) -> Response:
        return send_from_directory(str(swagger_ui_path), filename)

    return docs


def init_app(app: Flask) -> ServiceApi:
    for key, value in OPENAPI_CONFIG.items():
        app.config.setdefault(key, value)
    api = ServiceApi(app)
    app.register_blueprint(docs_blueprint())
    return api
