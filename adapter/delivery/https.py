"""The ``https`` channel: POST the envelope as a Standard Webhook (DESIGN.md §6), and ``sandbox``.

Each try sends the same body bytes with ``Idempotency-Key`` and ``webhook-id`` set to the
delivery id (stable across retries, so the addressee can drop duplicates), a fresh
``webhook-timestamp`` and a ``webhook-signature`` over ``{id}.{timestamp}.{body}`` with every
configured key. Redirects are not followed (Standard Webhooks: update the URL instead), so a
3xx is permanent until the configuration is fixed. Nothing is taken from the environment
(proxies, CA files): what a channel does is what ``addressees.yaml`` says. Of the answer, only
the status, ``Retry-After`` and a 2xx body's ``reference`` are read; the detail logged and
stored is the status with its standard phrase (:func:`status_detail`), never the addressee's text.

A channel keeps one HTTP client per process, so consecutive deliveries to an addressee reuse a
kept-alive connection (no TCP and TLS handshake each time); a connection the addressee dropped
meanwhile is a transient failure like any other, and the quick tries send again on a new one.
"""

from __future__ import annotations

import functools
import http
import ipaddress
import json
import os
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from adapter import __version__
from adapter.delivery import defaults
from adapter.delivery.base import Channel, Clock, QuickRetry, utc_now
from adapter.delivery.envelope import Delivery
from adapter.delivery.errors import ChannelConfigError, NoAnswer
from adapter.delivery.outcome import Reply, parse_retry_after
from adapter.delivery.signing import SigningKey, signature_header

USER_AGENT = f"csins-adapter/{__version__}"
"""The ``User-Agent`` of every delivery request."""

MAX_REFERENCE_CHARS = 200
"""Characters at most of an addressee's reference: what a receipt can hold (schemas/receipt.py)."""

_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class HttpTimeouts:
    """Seconds allowed for each phase of one request (``addressees.yaml`` may set each)."""

    connect: float = defaults.CONNECT_TIMEOUT_SECONDS
    read: float = defaults.READ_TIMEOUT_SECONDS
    write: float = defaults.WRITE_TIMEOUT_SECONDS
    pool: float = defaults.POOL_TIMEOUT_SECONDS

    def for_httpx(self) -> httpx.Timeout:
        """The same limits as httpx takes them."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def display_url(url: str) -> str:
    """``url`` without user info, query or fragment: safe to log and to put in a receipt."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class HttpsChannel(Channel):
    """Delivers to an addressee's HTTPS endpoint as a signed Standard Webhook."""

    name: ClassVar[str] = "https"
    plain_http_allowed: ClassVar[bool] = False
    """Whether ``http://`` is accepted off loopback (only the sandbox allows it)."""

    def __init__(
        self,
        addressee: str,
        endpoint: str,
        *,
        signing_keys: Sequence[SigningKey],
        timeouts: HttpTimeouts | None = None,
        auth_token: str | None = None,
        ca_bundle: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: QuickRetry | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._check_endpoint(addressee, endpoint)
        if not signing_keys:
            raise ChannelConfigError(addressee, "at least one signing key is needed")
        super().__init__(addressee, display_url(endpoint), retry=retry, clock=clock)
        self.endpoint = endpoint
        self.signing_keys = tuple(signing_keys)
        self.timeouts = timeouts or HttpTimeouts()
        self._auth_token = auth_token
        self._verify = _tls_context(addressee, ca_bundle) if ca_bundle else _default_tls_context()
        self._transport = transport
        self._client, self._client_pid = self._new_client(), os.getpid()

    def _check_endpoint(self, addressee: str, endpoint: str) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChannelConfigError(
                addressee, f"endpoint: expected an http(s) URL, got {display_url(endpoint)!r}"
            )
        if (
            parts.scheme == "http"
            and not self.plain_http_allowed
            and not is_loopback(parts.hostname)
        ):
            raise ChannelConfigError(
                addressee,
                "endpoint: an https channel needs an https:// URL (plain http only to loopback)",
            )

    def headers(self, delivery: Delivery, body: bytes, timestamp: int) -> dict[str, str]:
        """The request headers of one try at ``timestamp`` (unix seconds)."""
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": delivery.delivery_id,
            "webhook-id": delivery.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                self.signing_keys, delivery.delivery_id, timestamp, body
            ),
        }
        if self._auth_token:
            headers["Authorization"] = f"Bearer {self._auth_token}"
        return headers

    def close(self) -> None:
        """Close this process's kept-alive connections; a later send opens a new one."""
        if self._client_pid == os.getpid():
            self._client.close()
            self._client = self._new_client()

    def _new_client(self) -> httpx.Client:
        return httpx.Client(
            timeout=self.timeouts.for_httpx(),
            verify=self._verify,
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,  # no proxy or CA settings picked up from the environment
        )

    def _process_client(self) -> httpx.Client:
        """The client of this process: a forked child (RQ's scheduler) must not write on its
        parent's sockets, so it makes its own and leaves the parent's alone."""
        if self._client_pid != os.getpid():
            self._client, self._client_pid = self._new_client(), os.getpid()
        return self._client

    def _transmit(self, delivery: Delivery, body: bytes) -> Reply:
        now = self._clock()
        headers = self.headers(delivery, body, int(now.timestamp()))
        client = self._process_client()
        try:
            with client.stream("POST", self.endpoint, content=body, headers=headers) as response:
                head = _read_capped(response, defaults.MAX_RESPONSE_BYTES)
        except httpx.TimeoutException as exc:
            raise NoAnswer(f"timed out: {type(exc).__name__}", timed_out=True) from None
        except httpx.RequestError as exc:  # connection refused or reset, protocol, decoding
            # The class name only: the message may quote what the peer sent (h11 quotes a
            # malformed status or header line, a TLS error the certificate's names).
            raise NoAnswer(f"no answer: {type(exc).__name__}") from None
        document = _json_object(response, head)
        detail = status_detail(response.status_code)
        reference, note = addressee_reference(document.get("reference"))
        if note and response.is_success:
            detail = f"{detail}: {note}"
        return Reply(
            status=response.status_code,
            reference=reference,
            retry_after=parse_retry_after(response.headers.get("Retry-After"), self._clock()),
            detail=detail,
        )


class SandboxChannel(HttpsChannel):
    """The built-in sandbox receiver (``adapter.sandbox``), reached exactly like an addressee.

    The same request as :class:`HttpsChannel`; plain ``http://`` is allowed anywhere, and the
    factory signs with the public development key unless a key is configured.
    """

    name: ClassVar[str] = "sandbox"
    plain_http_allowed: ClassVar[bool] = True


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    """httpx's default verifying TLS context, built once per process (it takes ~0.1 s)."""
    return httpx.create_ssl_context(trust_env=False)


def _tls_context(addressee: str, ca_bundle: str) -> ssl.SSLContext:
    """The default verifying context with the CAs of ``ca_bundle`` trusted too: the file holds
    *extra* CAs (``addressees.yaml``), so a public CA stays trusted. A missing or unreadable
    file, or one without a certificate, is a configuration error naming the addressee."""
    context = httpx.create_ssl_context(trust_env=False)
    try:
        context.load_verify_locations(cafile=ca_bundle)
    except OSError as exc:  # FileNotFoundError, PermissionError, ssl.SSLError
        reason = exc.reason if isinstance(exc, ssl.SSLError) else exc.strerror
        raise ChannelConfigError(
            addressee,
            f"ca_bundle: cannot load {ca_bundle!r} as PEM CAs ({reason or type(exc).__name__})",
        ) from None
    return context


def status_detail(status: int) -> str:
    """``HTTP <status> <standard reason phrase>``: the detail of an answer, in our own words.

    Nothing the addressee wrote is kept, neither its reason phrase nor a problem ``title`` or
    ``detail``: an addressee may quote what it was sent, a child's name or NHS number, and the
    detail is logged, stored in clear and sent in alerts. A status without a standard phrase
    (520) is the number alone.
    """
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
    return f"HTTP {status} {phrase}"


def _read_capped(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def addressee_reference(value: object) -> tuple[str | None, str]:
    """The addressee's ``reference`` as a receipt holds it (1-200 characters), and a note when a
    value was given but cannot be kept.

    A text is stripped; an integer becomes its decimal digits; a boolean, a number with a
    fraction or a structure is no reference. One too long is dropped, never cut: cut, it could
    name another of the addressee's documents. The note gives only the length, not the value.
    """
    if value is None:
        return None, ""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        return None, f"reference ignored (a JSON {_json_type(value)}, not a text)"
    if not text:
        return None, "reference ignored (empty)"
    if len(text) > MAX_REFERENCE_CHARS:
        return None, f"reference ignored ({len(text)} characters, over {MAX_REFERENCE_CHARS})"
    return text, ""


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "number"
    return "array" if isinstance(value, list) else "object"


def _json_object(response: httpx.Response, head: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``{}`` when it is none: not JSON, not UTF-8, cut short by
    the size cap, or beyond what the parser takes (an integer of over 4 300 digits raises
    ValueError, deep nesting RecursionError). Such a 2xx is still an acknowledgement."""
    if "json" not in response.headers.get("Content-Type", "").lower() or not head:
        return {}
    try:
        parsed = json.loads(head)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError included
        return {}
    return parsed if isinstance(parsed, dict) else {}
