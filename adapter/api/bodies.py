"""Request input: JSON (or, for an event with its document, a multipart form) only where it is
expected, with size limits and clear problems.

Text the database cannot hold is refused at the edge, whatever the backend, so that SQLite and
PostgreSQL answer the same: U+0000 (PostgreSQL text cannot contain it) and unpaired UTF-16
surrogates (JSON escapes like ``"\\ud800"`` decode to them; they are not Unicode text and cannot
be encoded as UTF-8 for hashing or encryption).
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from flask import request
from werkzeug.datastructures import FileStorage

from adapter.http.problems import ApiProblem
from adapter.store.errors import InvalidCursor
from adapter.store.pagination import decode_cursor
from schemas import unique_keys
from schemas.events import MAX_DOCUMENT_BASE64

MAX_JSON_BYTES = 16 * 1024 * 1024
"""Largest JSON body (bytes): an incident record, or an event carrying a document in base64."""

MAX_FORM_BYTES = MAX_JSON_BYTES
"""Largest ``multipart/form-data`` body (bytes): an event with its document as a file part."""

MAX_DOCUMENT_BYTES = MAX_DOCUMENT_BASE64 // 4 * 3
"""Largest uploaded document (bytes): as much as base64 content may carry in a JSON event."""

FORM_DATA = "multipart/form-data"

JSON_BODY_PROBLEMS = (
    (400, "The body is not valid JSON"),
    (413, f"The body is over {MAX_JSON_BYTES} bytes"),
    (415, "The body is not application/json"),
    (422, "Text that cannot be stored (U+0000, an unpaired surrogate), named in errors"),
)
"""What :func:`json_body` refuses, for :func:`adapter.api.spec.problem_responses`."""

EVENT_BODY_PROBLEMS = (
    (400, "The body is not valid JSON, or a form without a boundary"),
    (413, f"The body is over {MAX_FORM_BYTES} bytes, or the document over {MAX_DOCUMENT_BYTES}"),
    (415, "The body is neither application/json nor multipart/form-data"),
    (
        422,
        "A form field sent twice, a file part other than document, a document without a "
        "Content-Type or bytes, or text that cannot be stored, named in errors",
    ),
)
"""What :func:`event_body` refuses, for :func:`adapter.api.spec.problem_responses`."""

IDEMPOTENCY_KEY_MAX = 255
"""Longest ``Idempotency-Key`` header accepted (characters)."""

MAX_CURSOR_CHARS = 512
"""Longest list cursor accepted (characters); the service issues cursors of about 100."""

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""A character no stored text may hold: NUL, or half of a UTF-16 surrogate pair."""


def json_body(*, or_also: str | None = None) -> Any:
    """The request's JSON, or a 415 / 413 / 400 / 422 problem saying what was wrong.

    ``or_also`` names another media type the caller takes, for the 415's message.
    """
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        expected = "application/json" + (f" or {or_also}" if or_also else "")
        raise ApiProblem(
            415,
            "unsupported-media-type",
            f"expected Content-Type {expected}, got '{request.mimetype or 'none'}'",
        )
    # Also bounds a body sent without a length (chunked): at most one byte more is read.
    request.max_content_length = MAX_JSON_BYTES + 1
    if (request.content_length or 0) > MAX_JSON_BYTES or len(request.get_data()) > MAX_JSON_BYTES:
        raise ApiProblem(413, "too-large", f"a JSON body may be at most {MAX_JSON_BYTES} bytes")
    try:
        data = unique_keys.loads(request.get_data())
    except RecursionError:
        raise ApiProblem(400, "malformed-json", "the body nests too deeply to be read") from None
    except unique_keys.RepeatedKey as repeated:
        # Parsers keep the first or the last of two equal keys: what one reader checked
        # another would store. Refused, as receipt files are (adapter.receipts.signed).
        raise ApiProblem(
            400, "malformed-json", f"the body repeats the key '{repeated}' in one object"
        ) from None
    except ValueError:  # not JSON, or not UTF-8
        data = None
    if data is None:
        raise ApiProblem(400, "malformed-json", "the body is not valid JSON")
    unstorable = unstorable_text(data)
    if unstorable:
        raise ApiProblem(
            422,
            "unstorable-text",
            "Some text holds characters that cannot be stored; see errors.",
            field_errors=unstorable,
        )
    return data


def event_body() -> Any:
    """A lifecycle event: JSON, or a form whose file part ``document`` is its document (§7)."""
    if request.mimetype == FORM_DATA:
        return form_body("document")
    return json_body(or_also=FORM_DATA)


def form_body(file_field: str) -> dict[str, Any]:
    """A ``multipart/form-data`` body as the JSON object it stands for, for the same schema.

    Each form field gives its text, and the file part ``file_field`` ``{"media_type",
    "filename", "content_base64"}``: its Content-Type, its filename and its exact bytes. A field
    the schema does not know is left in, for the schema to refuse. Refused here: a body over
    :data:`MAX_FORM_BYTES` or a file over :data:`MAX_DOCUMENT_BYTES` (413), a form without a
    boundary (400), a field sent twice, another file part, ``file_field`` sent as text, a file
    without a Content-Type or without bytes, and text that cannot be stored (422).
    """
    if not request.mimetype_params.get("boundary"):
        raise ApiProblem(400, "malformed-form", "a multipart/form-data body needs a boundary")
    request.max_content_length = MAX_FORM_BYTES + 1  # bounds a body sent without a length
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise ApiProblem(413, "too-large", f"a form body may be at most {MAX_FORM_BYTES} bytes")
    form, files = request.form, request.files
    problems = [
        (name, "given more than once")
        for name in sorted({*form, *files})
        if len(form.getlist(name)) + len(files.getlist(name)) > 1
    ]
    problems += [
        (name, f"unknown file part: the document is the file part '{file_field}'")
        for name in sorted(files)
        if name != file_field
    ]
    if file_field in form:
        problems.append((file_field, "expected a file part (with a filename), not a text field"))
    body: dict[str, Any] = {name: form[name] for name in form if name != file_field}
    upload = files.get(file_field)
    content = b""
    if upload is not None:
        content = _read_upload(file_field, upload)
        if upload.filename or content:  # else a browser's file input left empty: no document
            problems += _document_problems(file_field, upload.mimetype, content)
            body[file_field] = {"media_type": upload.mimetype, "filename": upload.filename or None}
    problems += unstorable_text(body)
    if problems:
        raise ApiProblem(
            422, "validation", "The form failed validation; see errors.", field_errors=problems
        )
    if file_field in body:
        body[file_field]["content_base64"] = base64.b64encode(content).decode("ascii")
    return body


def _read_upload(name: str, upload: FileStorage) -> bytes:
    """The uploaded file's bytes, or a 413 problem naming the part when it is over the limit."""
    content = upload.stream.read(MAX_DOCUMENT_BYTES + 1)
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ApiProblem(
            413,
            "too-large",
            f"the document may be at most {MAX_DOCUMENT_BYTES} bytes",
            field_errors=[(name, f"larger than {MAX_DOCUMENT_BYTES} bytes")],
        )
    return content


def _document_problems(name: str, media_type: str, content: bytes) -> list[tuple[str, str]]:
    """What is wrong with an uploaded document: no media type (RFC 7578 would read a part
    without one as text/plain, which a review is not; nothing is guessed), or no bytes."""
    problems = []
    if not media_type:
        problems.append(
            (
                name,
                "the file part has no Content-Type: give the document's media type, "
                "e.g. application/pdf",
            )
        )
    if not content:
        problems.append((name, "the file is empty"))
    return problems


def unstorable_text(data: Any) -> list[tuple[str, str]]:
    """``(path, message)`` of every string (key or value) in ``data`` holding a character that
    cannot be stored (see the module docstring). Iterative: parsed JSON may nest deeply."""
    found: list[tuple[str, str]] = []
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                found.append((path or "_schema", _why("text", value)))
        elif isinstance(value, dict):
            for key, item in value.items():
                shown = _UNSTORABLE.sub("\N{REPLACEMENT CHARACTER}", str(key))
                child = f"{path}.{shown}" if path else shown
                if _UNSTORABLE.search(str(key)):
                    found.append((child, _why("the key", str(key))))
                pending.append((child, item))
        elif isinstance(value, list):
            pending += [
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            ]
    return sorted(found)


def _why(what: str, text: str) -> str:
    if "\x00" in text:
        return f"{what} contains U+0000 (NUL), which cannot be stored"
    return f"{what} contains an unpaired UTF-16 surrogate, which is not Unicode text"


def refuse_unstorable_url() -> None:
    """Before every request: a NUL in the path or the query string is a 400 problem.

    No id or filter value holds one, and PostgreSQL refuses to compare text with it.
    """
    if "\x00" in request.path or any(
        "\x00" in name or "\x00" in value for name, value in request.args.items(multi=True)
    ):
        raise ApiProblem(400, "bad-url", "the URL holds a NUL character (%00)")


def checked_cursor(
    kind: str, cursor: str | None, valid: Callable[[str | int, str | int], bool]
) -> str | None:
    """``cursor`` when it could have been issued by the ``kind`` list, else a 400 problem.

    The store decodes it again; this refuses first what would make the query itself fail:
    deep nesting, numbers or times the database cannot hold, naive times, NUL characters.
    """
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("the cursor is not one this service issued")
    sort_key, last_id = decode_cursor(kind, cursor, 2)
    try:
        ok = valid(sort_key, last_id)
    except (ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidCursor("the cursor is not one this service issued")
    return cursor


def deadline_cursor_key(due: str | int, last_id: str | int) -> bool:
    """A deadlines cursor holds ``(due date, obligation id)``."""
    dt.date.fromisoformat(str(due))
    return isinstance(last_id, int) and 0 < last_id < 2**31  # obligations.id is a 32-bit integer


def delivery_cursor_key(created_at: str | int, last_id: str | int) -> bool:
    """A deliveries cursor holds ``(created_at, delivery id)``: an aware time and a short id."""
    when = dt.datetime.fromisoformat(str(created_at))
    when.astimezone(dt.UTC)  # OverflowError at the ends of the calendar
    return (
        when.tzinfo is not None
        and isinstance(last_id, str)
        and len(last_id) <= 64
        and not _UNSTORABLE.search(last_id)
    )


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
