"""The ``https`` channel: POST the envelope as a Standard Webhook (DESIGN.md §6), and ``sandbox``.

Each try sends the same body bytes with ``Idempotency-Key`` and ``webhook-id`` set to the
delivery id (stable across retries, so the addressee can drop duplicates), a fresh
``webhook-timestamp`` and a ``webhook-signature`` over ``{id}.{timestamp}.{body}`` with every
configured key. Redirects are not followed (Standard Webhooks: update the URL instead), so a
3xx is permanent until the configuration is fixed. Nothing is taken from the environment
(proxies, CA files): what a channel does is what ``addressees.yaml`` says. Of the answer, only
the status, ``Retry-After`` and a 2xx body's ``reference`` are read; the detail logged and
stored is the status with its standard phrase (:func:`status_detail`), never the addressee's text.

A channel keeps one ``requests`` session per process, so consecutive deliveries to an addressee
reuse a kept-alive connection (no TCP and TLS handshake each time); a connection the addressee
dropped meanwhile is a transient failure like any other, and the quick tries send again on a
new one. The timeouts are urllib3's, per socket operation: ``connect`` for connecting and
sending the request, ``read`` for each read of the answer; the session's pool never makes a
request wait for a connection (``pool_block`` off), so there is no pool wait to bound.
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

import certifi
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from adapter import __version__
from adapter.clock import utcnow
from adapter.delivery import defaults
from adapter.delivery.base import Channel, Clock, QuickRetry
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

    def for_requests(self) -> tuple[float, float]:
        """``(connect, read)`` as requests takes them: urllib3 sends the request under the
        connect timeout, so it is the larger of ``connect`` and ``write``."""
        return max(self.connect, self.write), self.read


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
        transport: BaseAdapter | None = None,
        retry: QuickRetry | None = None,
        clock: Clock = utcnow,
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

    def _new_client(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or CA settings picked up from the environment
        adapter = self._transport or _TlsAdapter(self._verify)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def _process_client(self) -> requests.Session:
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
            response = client.post(
                self.endpoint,
                data=body,
                headers=headers,
                timeout=self.timeouts.for_requests(),
                allow_redirects=False,
                stream=True,
            )
            with response:
                head = _read_capped(response, defaults.MAX_RESPONSE_BYTES)
        except requests.Timeout as exc:
            raise NoAnswer(f"timed out: {type(exc).__name__}", timed_out=True) from None
        except requests.RequestException as exc:  # refused or reset, protocol, decoding
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):  # a body read timed out
                raise NoAnswer("timed out: ReadTimeout", timed_out=True) from None
            # The class name only: the message may quote what the peer sent (a malformed
            # status or header line, a TLS error the certificate's names).
            raise NoAnswer(f"no answer: {_error_name(exc)}") from None
        document = _json_object(response, head)
        detail = status_detail(response.status_code)
        reference, note = addressee_reference(document.get("reference"))
        if note and 200 <= response.status_code < 300:
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


class _TlsAdapter(HTTPAdapter):
    """requests' adapter verifying with the channel's own TLS context (extra CAs trusted)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(pool_block=False)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def _error_name(error: requests.RequestException) -> str:
    """The most telling class name of a failure: requests wraps urllib3's and http.client's
    (``ConnectionError(ProtocolError(..., RemoteDisconnected(...)))``), so the innermost
    exception's class says what happened, as a name only."""
    inner: BaseException = error
    for _ in range(5):  # requests → urllib3 (MaxRetryError.reason) → http.client / socket
        reason = getattr(inner, "reason", None)
        wrapped = [arg for arg in inner.args if isinstance(arg, BaseException)]
        found = reason if isinstance(reason, BaseException) else (wrapped[-1] if wrapped else None)
        if found is None:
            break
        inner = found
    if inner is not error and type(inner).__name__ in _PEER_ERRORS:
        return _PEER_ERRORS[type(inner).__name__]
    return type(error).__name__


_PEER_ERRORS = {
    "RemoteDisconnected": "RemoteProtocolError",
    "BadStatusLine": "RemoteProtocolError",
    "LineTooLong": "RemoteProtocolError",
    "ProtocolError": "RemoteProtocolError",
    "ConnectionRefusedError": "ConnectError",
    "NewConnectionError": "ConnectError",
    "ConnectionResetError": "ReadError",
}
"""Failures named as before the move to requests, so logs and alerts read the same."""


@functools.cache
def _default_tls_context() -> ssl.SSLContext:
    """The default verifying TLS context (certifi's public CAs, as requests trusts), built
    once per process."""
    return _public_ca_context()


def _public_ca_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def _tls_context(addressee: str, ca_bundle: str) -> ssl.SSLContext:
    """The default verifying context with the CAs of ``ca_bundle`` trusted too: the file holds
    *extra* CAs (``addressees.yaml``), so a public CA stays trusted. A missing or unreadable
    file, or one without a certificate, is a configuration error naming the addressee."""
    context = _public_ca_context()
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


def _read_capped(response: requests.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=8192):
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


def _json_object(response: requests.Response, head: bytes) -> dict[str, Any]:
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
