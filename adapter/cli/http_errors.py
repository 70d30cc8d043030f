"""gunicorn's own error responses as RFC 9457 problem details (issue 19 item 7).

Some requests never reach the app: a request line over gunicorn's limit (414), too many or too
large header fields (431), a request gunicorn cannot parse (400). gunicorn answers those itself,
as an HTML page; every other error of the API is ``application/problem+json``, and clients
written against that must not meet HTML. :func:`install` replaces the one function gunicorn
writes those answers with (``gunicorn.util.write_error``), in the ``serve`` process before its
workers fork, so the same status comes back as a problem. Its detail is gunicorn's reason only:
never the request line or a header, which may carry a key or personal data.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from adapter.http.problems import PROBLEM_JSON, TYPE_PREFIX

_TYPES = {
    400: "malformed-request",
    403: "forbidden",
    414: "uri-too-long",
    417: "expectation-failed",
    431: "request-header-fields-too-large",
    500: "internal",
    501: "not-implemented",
}

_DETAILS = {
    414: "the request line (method, path and query string) is longer than this service reads",
    431: "the request's header fields are too many or too large for this service to read",
}


def problem_bytes(status: int, reason: str) -> bytes:
    """The whole HTTP response gunicorn sends for ``status``, as a problem document."""
    body = json.dumps(
        {
            "type": TYPE_PREFIX + _TYPES.get(status, "malformed-request"),
            "title": reason,
            "status": status,
            "detail": _DETAILS.get(status, f"the request could not be read: {reason.lower()}"),
        }
    ).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_JSON}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode("latin-1")
    return head + body


def write_problem(sock: socket.socket, status_int: int, reason: str, _mesg: Any) -> None:
    """gunicorn's ``util.write_error``, writing a problem instead of an HTML page."""
    from gunicorn import util

    util.write_nonblock(sock, problem_bytes(int(status_int), str(reason)))


def install() -> None:
    """Make gunicorn answer the errors it handles itself as problem details."""
    from gunicorn import util

    util.write_error = write_problem
