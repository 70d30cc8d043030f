"""Lifecycle events (DESIGN.md §7): what happened after the notification, ``{"type", "on", ...}``.

Events change what is owed (DESIGN.md §5). Those that produce a document carry it as base64
content with its media type; the deliveries they cause send exactly those bytes.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import Schema, fields, post_load, validate, validates_schema

from schemas import codes
from schemas.fields import MAX_TEXT, code, date_field, optional_code, raise_problems, text

MAX_DOCUMENT_BASE64 = 14 * 1024 * 1024
"""Longest base64 document content (characters), about 10 MiB of bytes."""

REQUIRED_BY_TYPE: dict[str, tuple[str, ...]] = {
    "rapid_review_completed": (),
    "panel_consulted": ("outcome",),
    "lcspr_decided": ("decision",),
    "publication_scheduled": ("publication_date", "mode"),
    "publication_delayed": ("reason",),
    "published": ("url",),
    "panel_response_received": (),
    "panel_information_requested": (),
    "further_information_sent": (),
    "publication_decided": ("publish",),
    "publication_withdrawn": (),
    "family_informed": (),
    "referral_decided": ("decision", "rationale"),
}
"""Fields each event type must carry besides ``type`` and ``on``."""

DOCUMENT_EVENTS = frozenset(
    {
        "rapid_review_completed",
        "lcspr_decided",
        "publication_scheduled",
        "publication_delayed",
        "further_information_sent",
    }
)
"""Events whose document is delivered to addressees (DESIGN.md §7); ``publication_decided``
carries one too unless it publishes the full report (:func:`carries_document`)."""

DECISIONS_BY_TYPE = {
    "lcspr_decided": codes.LCSPR_DECISIONS,
    "referral_decided": codes.REFERRAL_DECISIONS,
}
"""The ``decision`` values each event type takes."""


def carries_document(event: dict[str, Any]) -> bool:
    """Whether a loaded event must carry the document it produced (DESIGN.md §7): §8 the
    justification of publishing only the improvements, or nothing, goes with its decision."""
    if event["type"] == "publication_decided":
        return event.get("publish") != "full_report"
    return event["type"] in DOCUMENT_EVENTS


MAX_FILENAME = 120
"""Longest document filename kept (characters, extension included)."""


def safe_filename(name: str | None) -> str | None:
    """An uploaded document's filename as it may be passed on (in the envelope, as an email
    attachment's name): its last path part only (no ``../`` or ``C:\\``), without control,
    format or bidirectional characters (a right-to-left override can make ``exe.pdf`` read as
    ``fdp.exe``), white space runs made one space, no leading dots, at most
    :data:`MAX_FILENAME` characters with the extension kept; None when nothing is left."""
    if name is None:
        return None
    last = re.split(r"[\\/]", name)[-1]
    visible = "".join(
        " " if c.isspace() else c for c in last if c.isspace() or unicodedata.category(c)[0] != "C"
    )
    cleaned = " ".join(visible.split()).lstrip(". ").rstrip(" ")
    if len(cleaned) > MAX_FILENAME:
        _, dot, extension = cleaned.rpartition(".")
        keep = dot + extension if dot and len(extension) <= 10 else ""
        cleaned = cleaned[: MAX_FILENAME - len(keep)].rstrip(" .") + keep
    return cleaned or None


class DocumentSchema(Schema):
    media_type = text(
        100,
        required=True,
        validate=validate.Regexp(
            r"^[\w.+-]+/[\w.+-]+$", error="expected a media type such as application/pdf"
        ),
    )
    filename = text(255)
    content_base64 = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_DOCUMENT_BASE64)
    )


class EventSchema(Schema):
    """One lifecycle event; the fields after ``on`` apply to some types only (REQUIRED_BY_TYPE)."""

    type = code(codes.EVENT_TYPES, required=True)
    on = date_field(required=True)
    outcome = optional_code(codes.PANEL_CONSULTATION_OUTCOMES)
    decision = optional_code((*codes.LCSPR_DECISIONS, *codes.REFERRAL_DECISIONS))
    rationale = text(MAX_TEXT)
    due = date_field(allow_none=True, load_default=None)
    """The date the Panel gave for further information (``panel_information_requested``)."""
    publish = optional_code(codes.PUBLISH_CHOICES)
    reviewer = text()
    publication_date = date_field(allow_none=True, load_default=None)
    mode = optional_code(codes.PUBLICATION_MODES)
    reason = text(MAX_TEXT)
    url = fields.Url(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    document = fields.Nested(DocumentSchema, allow_none=True, load_default=None)

    def __init__(self, *, stored: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stored = stored
        """Reading an event back from the store: a reviewer recorded before blank names were
        refused is kept (the event happened; re-planning must not fail on it)."""

    @post_load
    def _safe_filename(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """An uploaded document's filename is made safe where it enters (:func:`safe_filename`);
        an event read back from the store keeps the name it was stored with."""
        document = data.get("document")
        if document is not None and not self.stored:
            data["document"] = {**document, "filename": safe_filename(document.get("filename"))}
        return data

    @validates_schema
    def _fields_of_type(self, data: dict[str, Any], **_: Any) -> None:
        kind = data["type"]
        raise_problems(
            [
                (name, f"required for a '{kind}' event")
                for name in REQUIRED_BY_TYPE[kind]
                if data.get(name) is None
            ]
        )
        allowed = DECISIONS_BY_TYPE.get(kind)
        decision = data.get("decision")
        if decision is not None and allowed is not None and decision not in allowed:
            raise_problems(
                [
                    (
                        "decision",
                        f"'{decision}' is not a decision of a '{kind}' event: expected one "
                        f"of {codes.allowed(allowed)}",
                    )
                ]
            )
        reviewer = data.get("reviewer")
        named = bool(reviewer) if self.stored else bool((reviewer or "").strip())
        if kind == "lcspr_decided" and data.get("decision") == "local_review" and not named:
            # §3, §4: the Panel, Ofsted and DfE are told "including the name of any reviewer";
            # a blank name is no name.
            given = "" if reviewer is None else f" ('{reviewer}' is blank)"
            raise_problems(
                [
                    (
                        "reviewer",
                        f"required when a local review is decided (§3, §4){given}: expected "
                        "the name of the reviewer commissioned",
                    )
                ]
            )
