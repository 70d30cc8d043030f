"""Choose and build an addressee's channel from its ``addressees.yaml`` entry (DESIGN.md §6).

Keys of an entry (unknown keys are refused, so a typo cannot vanish):

- every channel: ``name`` (display only), ``channel`` (``https`` | ``smtp`` | ``sandbox``);
- ``https`` and ``sandbox``: ``endpoint`` (URL), ``endpoint_env`` (name of an env var that, when
  set, overrides ``endpoint``; for ``sandbox`` a value without a path gets ``/<addressee>``),
  ``signing`` (``v1a`` Ed25519, the default, or ``v1`` HMAC-SHA256), ``signing_key_env`` (name
  of the env var holding the ``whsk_``/``whsec_`` key, several space-separated while rotating,
  the current one first), ``auth_token_env`` (optional bearer token), ``ca_bundle`` (PEM file
  of extra CAs, trusted besides the default ones; a file that cannot be loaded is a
  :class:`ChannelConfigError`), ``connect_timeout_seconds``, ``read_timeout_seconds``,
  ``write_timeout_seconds``;
- ``smtp``: ``host``, ``port``, ``tls`` (``starttls`` | ``tls`` | ``none``), ``from``, ``to``
  (list), ``username_env`` and ``password_env``, ``timeout_seconds``, ``message_id_domain``,
  ``ca_bundle`` (PEM file of extra CAs to trust for the relay's certificate).

Credentials are always named by env var, never written in the file. A ``sandbox`` entry with no
key configured signs with the public development key that the sandbox receiver trusts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import urlsplit

from requests.adapters import BaseAdapter

from adapter.clock import utcnow
from adapter.delivery import defaults
from adapter.delivery.base import Channel, Clock, QuickRetry
from adapter.delivery.errors import ChannelConfigError, MissingCredential, SignatureError
from adapter.delivery.https import HttpsChannel, HttpTimeouts, SandboxChannel
from adapter.delivery.signing import Scheme, SigningKey, parse_signing_keys
from adapter.delivery.smtp import SmtpChannel, TlsMode

COMMON_KEYS = frozenset({"name", "channel"})
HTTP_KEYS = COMMON_KEYS | {
    "endpoint",
    "endpoint_env",
    "signing",
    "signing_key_env",
    "auth_token_env",
    "ca_bundle",
    "connect_timeout_seconds",
    "read_timeout_seconds",
    "write_timeout_seconds",
}
SMTP_KEYS = COMMON_KEYS | {
    "host",
    "port",
    "tls",
    "from",
    "to",
    "username_env",
    "password_env",
    "timeout_seconds",
    "message_id_domain",
    "ca_bundle",
}
CHANNEL_KEYS = {"https": HTTP_KEYS, "sandbox": HTTP_KEYS, "smtp": SMTP_KEYS}
"""The keys each channel's entry may hold."""

_DEV_KEYS = {
    Scheme.V1: defaults.SANDBOX_DEV_HMAC_SECRET,
    Scheme.V1A: defaults.SANDBOX_DEV_SIGNING_KEY,
}


def sandbox_endpoint(addressee: str, base: str | None = None) -> str:
    """The sandbox receiver's URL for ``addressee``: ``<base>/<addressee>``.

    ``base`` defaults to ``http://127.0.0.1:8070`` (:data:`~defaults.SANDBOX_PORT`).
    """
    base = base or f"http://{defaults.SANDBOX_HOST}:{defaults.SANDBOX_PORT}"
    return f"{base.rstrip('/')}/{addressee}"


def channel_for(
    addressee: str,
    config: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    retry: QuickRetry | None = None,
    transport: BaseAdapter | None = None,
    clock: Clock = utcnow,
) -> Channel:
    """The channel that delivers to ``addressee`` as ``config`` (its YAML entry) says.

    ``environ`` supplies the env vars the entry names (credentials, endpoint overrides); the
    caller passes ``os.environ`` or a test mapping. ``retry`` sets the quick tries (the worker
    passes ``QuickRetry(tries=settings.policy.quick_tries)``); ``transport`` replaces requests'
    network adapter (unit tests only). Raises :class:`ChannelConfigError` naming the problem.
    """
    if not isinstance(config, Mapping):
        raise ChannelConfigError(addressee, "expected a mapping of settings")
    kind = config.get("channel")
    if kind not in CHANNEL_KEYS:
        raise ChannelConfigError(
            addressee, f"channel: expected https, smtp or sandbox, got {kind!r}"
        )
    unknown = sorted(set(config) - CHANNEL_KEYS[kind])
    if unknown:
        raise ChannelConfigError(
            addressee, f"unknown setting(s) for a {kind} channel: {', '.join(unknown)}"
        )
    entry = _Entry(addressee, config, environ)
    if kind == "smtp":
        return _smtp(entry, retry, clock)
    return _http(entry, kind == "sandbox", retry, transport, clock)


class _Entry:
    """One addressee's settings with explicit parsing and errors that name the key."""

    def __init__(
        self, addressee: str, config: Mapping[str, Any], environ: Mapping[str, str]
    ) -> None:
        self.addressee = addressee
        self.config = config
        self.environ = environ

    def error(self, message: str) -> ChannelConfigError:
        return ChannelConfigError(self.addressee, message)

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.config.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key}: expected a non-empty text, got {value!r}")
        return value.strip()

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(f"{key}: required for a {self.config['channel']} channel")
        return value

    def seconds(self, key: str, default: float) -> float:
        value = self.config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(f"{key}: expected a number of seconds > 0, got {value!r}")
        return float(value)

    def from_env(self, key: str, *, required: bool) -> str | None:
        """The value of the env var that setting ``key`` names (None when unnamed or unset)."""
        name = self.text(key)
        if name is None:
            if required:
                raise self.error(f"{key}: required (the name of an environment variable)")
            return None
        value = self.environ.get(name, "").strip()
        if not value and required:
            raise MissingCredential(
                self.addressee, f"{key}: environment variable {name} is not set"
            )
        return value or None


def _http(
    entry: _Entry,
    sandbox: bool,
    retry: QuickRetry | None,
    transport: BaseAdapter | None,
    clock: Clock,
) -> HttpsChannel:
    addressee = entry.addressee
    endpoint = entry.from_env("endpoint_env", required=False) or entry.text("endpoint")
    if sandbox:
        if endpoint is None:
            endpoint = sandbox_endpoint(addressee)
        elif urlsplit(endpoint).path in ("", "/"):
            endpoint = sandbox_endpoint(addressee, endpoint)
    elif endpoint is None:
        raise entry.error("endpoint: required for an https channel")
    scheme_text = entry.text("signing", Scheme.V1A.value)
    if scheme_text not in (Scheme.V1.value, Scheme.V1A.value):
        raise entry.error(
            f"signing: expected v1a (Ed25519) or v1 (HMAC-SHA256), got {scheme_text!r}"
        )
    scheme = Scheme(scheme_text)
    key_text = entry.from_env("signing_key_env", required=not sandbox) or _DEV_KEYS[scheme]
    try:
        keys = parse_signing_keys(key_text)
    except SignatureError as exc:
        raise entry.error(f"signing_key_env: {exc}") from None
    if keys[0].scheme is not scheme:
        raise entry.error(
            f"signing_key_env: the first key is a {keys[0].scheme.value} key but "
            f"signing is {scheme.value}"
        )
    timeouts = HttpTimeouts(
        connect=entry.seconds("connect_timeout_seconds", defaults.CONNECT_TIMEOUT_SECONDS),
        read=entry.seconds("read_timeout_seconds", defaults.READ_TIMEOUT_SECONDS),
        write=entry.seconds("write_timeout_seconds", defaults.WRITE_TIMEOUT_SECONDS),
    )
    channel_class = SandboxChannel if sandbox else HttpsChannel
    return channel_class(
        addressee,
        endpoint,
        signing_keys=keys,
        timeouts=timeouts,
        auth_token=entry.from_env("auth_token_env", required=False),
        ca_bundle=entry.text("ca_bundle"),
        transport=transport,
        retry=retry,
        clock=clock,
    )


def _smtp(entry: _Entry, retry: QuickRetry | None, clock: Clock) -> SmtpChannel:
    port = entry.config.get("port", defaults.SMTP_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise entry.error(f"port: expected a TCP port number, got {port!r}")
    tls = entry.text("tls", "starttls")
    if tls not in ("starttls", "tls", "none"):
        raise entry.error(f"tls: expected starttls, tls or none, got {tls!r}")
    recipients = entry.config.get("to")
    if isinstance(recipients, str):
        recipients = [part.strip() for part in recipients.split(",") if part.strip()]
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(isinstance(r, str) and "@" in r for r in recipients)
    ):
        raise entry.error("to: expected a list of email addresses")
    username = entry.from_env("username_env", required=False)
    password = entry.from_env("password_env", required=username is not None)
    return SmtpChannel(
        entry.addressee,
        host=entry.required_text("host"),
        port=port,
        tls=cast(TlsMode, tls),
        sender=entry.required_text("from"),
        recipients=recipients,
        username=username,
        password=password,
        timeout=entry.seconds("timeout_seconds", defaults.SMTP_TIMEOUT_SECONDS),
        message_id_domain=entry.text("message_id_domain"),
        ca_bundle=entry.text("ca_bundle"),
        retry=retry,
        clock=clock,
    )


def dev_signing_key(scheme: Scheme) -> SigningKey:
    """The public development key of ``scheme`` that the sandbox channel signs with by default."""
    return SigningKey.parse(_DEV_KEYS[scheme])
