"""How one send ended, and the rules that classify an addressee's answer (DESIGN.md §6).

- https / sandbox: 2xx acknowledged; 408, 425, 429, 5xx transient (``Retry-After`` honoured);
  every other status (3xx, other 4xx) permanent. Timeouts and connection errors are transient.
- smtp: 2xx acknowledged (the server accepted the message); 4xx transient; 5xx permanent;
  connection errors and timeouts transient.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import enum
import hashlib
from dataclasses import dataclass
from typing import Any

from adapter.delivery.defaults import DETAIL_MAX_CHARS

TRANSIENT_HTTP_STATUSES = frozenset({408, 425, 429})
"""4xx statuses that mean "try again later" (besides every 5xx)."""


class OutcomeKind(enum.StrEnum):
    """The three ways a send ends; the worker acts on this alone."""

    ACKNOWLEDGED = "acknowledged"
    """The addressee took the document: issue a receipt."""
    TRANSIENT = "transient"
    """Not taken this time: reschedule (after ``retry_after`` seconds, if given)."""
    PERMANENT = "permanent"
    """Refused: mark the delivery failed and alert an admin; retried only by hand."""


@dataclass(frozen=True)
class Reply:
    """An addressee's answer to one try, before classification: what a channel's call returns."""

    status: int
    """HTTP status or SMTP reply code."""
    reference: str | None = None
    """The addressee's own reference for the document, when it gives one."""
    retry_after: float | None = None
    """Seconds the addressee asked us to wait (``Retry-After``), when it did."""
    detail: str = ""
    """A short reason in our own words: the HTTP status and its standard phrase, or the SMTP
    stage and reply code, and our fixed notes. Never text the addressee chose (a reason phrase,
    a problem title, a relay's reply text), which could quote personal data."""


@dataclass(frozen=True)
class Outcome:
    """The result of :meth:`Channel.send`: classified, timed, and naming the exact bytes sent."""

    kind: OutcomeKind
    channel: str
    """``https``, ``smtp``, ``sandbox`` or ``csins`` (a person's recorded submission)."""
    destination: str
    """Where it was sent: the endpoint URL, or ``mailto:`` and the recipients."""
    status: int | None
    """The last HTTP status or SMTP reply code; None when no answer came (timeout, connection)."""
    reference: str | None
    """The addressee's reference (https: the JSON body's ``reference``; smtp: our Message-ID)."""
    retry_after: float | None
    """Seconds to wait before the next try, when the addressee said so (transient only)."""
    detail: str
    """Short reason in our own words (see :attr:`Reply.detail`; for no answer, the exception's
    class name), free of personal data: safe to log, store in clear and show to admins."""
    sent_sha256: str
    """Hex SHA-256 of exactly the bytes sent (the whole body or message): what a receipt holds."""
    sent_bytes: int
    """Length of those bytes."""
    tries: int
    """Tries made inside this send (at most the configured quick tries)."""
    started_at: dt.datetime
    """When the first try began (aware UTC)."""
    finished_at: dt.datetime
    """When the last try ended (aware UTC)."""
    confirmed_by: str | None = None
    """Who made the submission, when a person acknowledged it (the ``csins`` channel)."""

    @classmethod
    def not_sent(cls, channel: str, detail: str, at: dt.datetime) -> Outcome:
        """A permanent outcome for a document that could not be sent at all (its channel
        misconfigured, the document unfit for it): no retry can help until someone fixes it."""
        return cls(
            kind=OutcomeKind.PERMANENT,
            channel=channel,
            destination="",
            status=None,
            reference=None,
            retry_after=None,
            detail=short_detail(detail),
            sent_sha256=hashlib.sha256(b"").hexdigest(),
            sent_bytes=0,
            tries=0,
            started_at=at,
            finished_at=at,
        )

    @property
    def acknowledged(self) -> bool:
        """True when the addressee took the document."""
        return self.kind is OutcomeKind.ACKNOWLEDGED

    @property
    def duration_seconds(self) -> float:
        """Seconds from the first try's start to the last try's end."""
        return (self.finished_at - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (times as ISO 8601 UTC), for storing an attempt or building a receipt."""
        values = dataclasses.asdict(self)
        values["kind"] = self.kind.value
        values["started_at"] = self.started_at.isoformat()
        values["finished_at"] = self.finished_at.isoformat()
        return values


def classify_http_status(status: int) -> OutcomeKind:
    """DESIGN.md §6: 2xx acknowledged; 408, 425, 429 and 5xx transient; anything else permanent."""
    if 200 <= status < 300:
        return OutcomeKind.ACKNOWLEDGED
    if status in TRANSIENT_HTTP_STATUSES or 500 <= status < 600:
        return OutcomeKind.TRANSIENT
    return OutcomeKind.PERMANENT


def classify_smtp_code(code: int) -> OutcomeKind:
    """RFC 5321 §4.2.1: 2yz accepted; 4yz transient failure; 5yz (and anything else) permanent."""
    if 200 <= code < 300:
        return OutcomeKind.ACKNOWLEDGED
    if 400 <= code < 500:
        return OutcomeKind.TRANSIENT
    return OutcomeKind.PERMANENT


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds from ``now`` that a ``Retry-After`` asks for (RFC 9110 §10.2.3), or None.

    Both forms are understood: delay-seconds (``"120"``) and an HTTP-date
    (``"Wed, 21 Oct 2026 07:28:00 GMT"``). A date in the past means 0; anything unparseable is
    ignored (None) rather than trusted.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # not "²", which isdigit() also takes
        # Nine digits is 31 years: anything longer is no delay an addressee means.
        return float(int(text)) if len(text) <= 9 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 850 / asctime forms: HTTP dates are always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def short_detail(text: str) -> str:
    """``text`` on one line, cut to :data:`DETAIL_MAX_CHARS`."""
    one_line = " ".join(text.split())
    if len(one_line) <= DETAIL_MAX_CHARS:
        return one_line
    return one_line[: DETAIL_MAX_CHARS - 1] + "…"
