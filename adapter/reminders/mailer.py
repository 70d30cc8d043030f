"""The daily digest's own settings and its sending with :mod:`smtplib` (issue 18).

The digest is the service writing to the LA's own staff, not a delivery to an addressee, so it
has its own small settings (not ``addressees.yaml``), read from ``digest.yaml`` in the config
folder (``CSINS_CONFIG_DIR``), or the file ``CSINS_DIGEST_FILE`` names::

    send_at: "07:30"                 # UK time (Europe/London); the first run after it sends
    base_url: https://csins.example.gov.uk   # where the links in the e-mail point
    send_when_empty: false           # true: a digest even on a day with nothing to say
    smtp:
      host: smtp.example.gov.uk
      port: 587
      security: starttls             # starttls | tls | none (none: a local relay only)
      from: csins-adapter@example.gov.uk
      username_env: CSINS_DIGEST_SMTP_USERNAME   # optional: env vars holding the login
      password_env: CSINS_DIGEST_SMTP_PASSWORD
      timeout_seconds: 30
    mailboxes:                       # per LA code: who gets that LA's digest
      "812": [safeguarding-lead@nelincs.gov.uk, business-support@nelincs.gov.uk]

Without the file (or with no mailboxes) no digest is sent. A bad value raises
:class:`~config.settings.SettingsError` naming it.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

from adapter.delivery import defaults
from config.settings import Settings, SettingsError

DIGEST_FILE = "digest.yaml"
"""The digest's settings file in the config folder."""

DEFAULT_SEND_AT = dt.time(7, 0)
"""When the digest goes, UK time, unless ``send_at`` says otherwise."""

SECURITY_MODES = ("starttls", "tls", "none")
"""How the connection to the mail server is protected; ``none`` only for a local relay."""

_LA_CODE = re.compile(r"^[0-9]{3}$")
_ADDRESS = re.compile(r"^[^@\s<>,]+@[^@\s<>,]+$")
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True)
class DigestSettings:
    """What the digest job needs; ``enabled`` is False when no LA has a mailbox."""

    mailboxes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    send_at: dt.time = DEFAULT_SEND_AT
    base_url: str = "http://127.0.0.1:8000"
    send_when_empty: bool = False
    host: str = "127.0.0.1"
    port: int = defaults.SMTP_PORT
    security: str = "starttls"
    sender: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_seconds: float = defaults.SMTP_TIMEOUT_SECONDS

    @property
    def enabled(self) -> bool:
        return bool(self.mailboxes)


def load_digest_settings(settings: Settings) -> DigestSettings:
    """The digest's settings for ``settings`` (its config folder and environment)."""
    named = settings.environ.get("CSINS_DIGEST_FILE", "").strip()
    path = Path(named) if named else settings.config_dir / DIGEST_FILE
    if not path.exists():
        if named:
            raise SettingsError(f"CSINS_DIGEST_FILE: {path} does not exist")
        return DigestSettings()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise SettingsError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: expected a mapping at the top level")
    return _parse(path.name, raw, settings.environ)


def _parse(name: str, raw: Mapping[str, Any], environ: Mapping[str, str]) -> DigestSettings:
    smtp = raw.get("smtp") or {}
    if not isinstance(smtp, dict):
        raise SettingsError(f"{name}: smtp: expected a mapping")
    mailboxes = _mailboxes(name, raw.get("mailboxes") or {})
    security = str(smtp.get("security", "starttls"))
    if security not in SECURITY_MODES:
        raise SettingsError(f"{name}: smtp.security: expected one of {', '.join(SECURITY_MODES)}")
    sender = str(smtp.get("from", "")).strip()
    if mailboxes and not _ADDRESS.match(sender):
        raise SettingsError(f"{name}: smtp.from: expected an e-mail address, got {sender!r}")
    base_url = str(raw.get("base_url", DigestSettings.base_url)).rstrip("/")
    if not base_url.startswith(("https://", "http://")):
        raise SettingsError(f"{name}: base_url: expected an http(s) address, got {base_url!r}")
    return DigestSettings(
        mailboxes=mailboxes,
        send_at=_send_at(name, raw.get("send_at", f"{DEFAULT_SEND_AT:%H:%M}")),
        base_url=base_url,
        send_when_empty=_boolean(name, "send_when_empty", raw.get("send_when_empty", False)),
        host=str(smtp.get("host", "127.0.0.1")),
        port=_number(name, "smtp.port", smtp.get("port", defaults.SMTP_PORT)),
        security=security,
        sender=sender,
        username=_from_env(name, "smtp.username_env", smtp.get("username_env"), environ),
        password=_from_env(name, "smtp.password_env", smtp.get("password_env"), environ),
        timeout_seconds=(
            float(_number(name, "smtp.timeout_seconds", smtp["timeout_seconds"]))
            if "timeout_seconds" in smtp
            else defaults.SMTP_TIMEOUT_SECONDS
        ),
    )


def _mailboxes(name: str, raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise SettingsError(f"{name}: mailboxes: expected a mapping of LA code to addresses")
    found: dict[str, tuple[str, ...]] = {}
    for code, addresses in raw.items():
        la = str(code)
        if not _LA_CODE.match(la):
            raise SettingsError(f"{name}: mailboxes: expected 3-digit LA codes, got {la!r}")
        listed = [addresses] if isinstance(addresses, str) else list(addresses or [])
        for address in listed:
            if not isinstance(address, str) or not _ADDRESS.match(address):
                raise SettingsError(
                    f"{name}: mailboxes.{la}: expected e-mail addresses, got {address!r}"
                )
        if listed:
            found[la] = tuple(listed)
    return found


def _send_at(name: str, value: Any) -> dt.time:
    matched = _TIME.match(str(value).strip())
    if not matched:
        raise SettingsError(f"{name}: send_at: expected HH:MM (UK time), got {value!r}")
    return dt.time(int(matched.group(1)), int(matched.group(2)))


def _boolean(name: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SettingsError(f"{name}: {key}: expected true or false, got {value!r}")
    return value


def _number(name: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name}: {key}: expected a whole number >= 1, got {value!r}")
    return value


def _from_env(name: str, key: str, variable: Any, environ: Mapping[str, str]) -> str | None:
    if variable is None:
        return None
    value = environ.get(str(variable))
    if not value:
        raise SettingsError(f"{name}: {key}: the environment variable {variable} is not set")
    return value


def send_message(settings: DigestSettings, message: EmailMessage) -> str:
    """Send ``message`` through the configured server; returns its Message-ID.

    Raises :class:`smtplib.SMTPException` or :class:`OSError` when the server cannot be reached
    or refuses it (the caller records the failure and tries again on its next run).
    """
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.security == "tls":
        server = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_seconds, context=context
        )
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    with server:
        if settings.security == "starttls":
            server.starttls(context=context)
        if settings.username and settings.password:
            server.login(settings.username, settings.password)
        server.send_message(message)
    return str(message["Message-ID"])
