"""Request bodies: JSON only where JSON is expected, with size limits and clear problems."""

from __future__ import annotations

from typing import Any

from flask import request

from adapter.api.problems import ApiProblem

MAX_JSON_BYTES = 16 * 1024 * 1024
"""Largest JSON body (bytes): an incident record, or an event carrying a document in base64."""

IDEMPOTENCY_KEY_MAX = 255
"""Longest ``Idempotency-Key`` header accepted (characters)."""


def json_body() -> Any:
    """The request's JSON, or a 415 / 413 / 400 problem saying what was wrong."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise ApiProblem(
            415,
            "unsupported-media-type",
            f"expected Content-Type application/json, got '{request.mimetype or 'none'}'",
        )
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiProblem(413, "too-large", f"a JSON body may be at most {MAX_JSON_BYTES} bytes")
    data = request.get_json(silent=True)
    if data is None:
        raise ApiProblem(400, "malformed-json", "the body is not valid JSON")
    return data


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApiProblem(
            400,
            "bad-idempotency-key",
            f"Idempotency-Key must be 1-{IDEMPOTENCY_KEY_MAX} printable characters",
        )
    return key
