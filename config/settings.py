"""The service's settings: defaults, then YAML in ``config/`` (or ``CSINS_CONFIG_DIR``), then env.

Every value is parsed explicitly; a bad one raises :class:`SettingsError` naming the setting.
Environment variables: ``CSINS_*`` for our own settings, plus ``DATABASE_URL`` and ``REDIS_URL``.
``CSINS_ADDRESSEES_FILE`` names an ``addressees.yaml`` to use instead of the config folder's
(e.g. ``config/examples/assisted.yaml``: notifications as assisted submissions, DESIGN.md §6).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parent
"""The folder holding the shipped ``policy.yaml``, ``addressees.yaml`` and ``profiles/``."""

MAX_EXPORT_BYTES = 100 * 1024 * 1024
"""Largest export file (bytes) that ``convert`` and ``POST /imports`` accept."""

MAX_EXPORT_ROWS = 500_000
"""Most data rows one export may hold."""

MAX_XLSX_STRINGS_BYTES = 32 * 1024 * 1024
"""Most bytes of XML an XLSX export's shared-string table (its distinct text values) may hold:
the table is read whole before the first row, so it is bounded on its own. 32 MiB is about a
million distinct values; reading that many takes about 100 MB."""

MAX_XLSX_STRINGS = 1_000_000
"""Most distinct text values (shared strings) an XLSX export may hold."""

WEB_SECRET_MIN_CHARS = 32
"""Shortest session secret accepted (characters)."""

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""The levels ``CSINS_LOG_LEVEL`` takes."""

ENCRYPTION_KEY_BYTES = 32
"""Length (bytes) of each encryption-at-rest key: AES-256-GCM."""

_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it and what was expected."""


@dataclass(frozen=True)
class Policy:
    """Policy values from ``policy.yaml``: where the guidance gives no number (DESIGN.md §4-§6)."""

    due_soon_working_days: int = 2
    review_decision_working_days: int = 5
    death_notification_working_days: int = 5
    quick_tries: int = 3
    retry_schedule_seconds: tuple[int, ...] = (60, 300, 1800, 7200, 18000, 36000)
    stuck_delivery_seconds: int = 360
    stuck_import_seconds: int = 300
    """A running import that has written nothing for this long lost its worker: the sweeper
    has another worker take it over where it stopped."""
    calendar_first_year: int = 2000
    calendar_last_year: int = 2030
    extra_closure_dates: tuple[dt.date, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with. Built by :func:`load_settings`."""

    config_dir: Path = DEFAULT_CONFIG_DIR
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str | None = None
    max_export_bytes: int = MAX_EXPORT_BYTES
    max_export_rows: int = MAX_EXPORT_ROWS
    max_xlsx_strings_bytes: int = MAX_XLSX_STRINGS_BYTES
    """``CSINS_MAX_XLSX_STRINGS_BYTES``: see :data:`MAX_XLSX_STRINGS_BYTES`."""
    max_xlsx_strings: int = MAX_XLSX_STRINGS
    """``CSINS_MAX_XLSX_STRINGS``: see :data:`MAX_XLSX_STRINGS`."""
    policy: Policy = field(default_factory=Policy)
    addressees: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    encryption_keys: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    """Encryption-at-rest keys as ``(key id, 32 bytes)``; the first encrypts, all decrypt."""
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    """The environment the settings were read from: channels look up credentials by env-var
    name (``config/addressees.yaml``) here, so nothing else needs ``os.environ``."""
    encryption_keys_file: Path | None = None
    """A file holding the keys in the ``CSINS_ENCRYPTION_KEYS`` format (used when that is unset)."""
    alert_webhook_url: str | None = None
    """Where alerts are also POSTed as JSON (``CSINS_ALERT_WEBHOOK_URL``): e.g. a bridge to the
    LA's safeguarding mailbox or chat. Alerts are always logged and written to the audit log."""
    web_secret: str | None = field(default=None, repr=False)
    """Signs the admin pages' session cookie (``CSINS_WEB_SECRET``, at least 32 characters);
    machines that do not share a data dir need the same one. Unset: a file in the data dir."""
    signing_key_file: Path | None = None
    """A PEM file holding the receipt-signing Ed25519 key (``CSINS_SIGNING_KEY_FILE``)."""
    signing_keys_dir: Path | None = None
    """A folder of ``receipt-key-NNNN.pem`` files, highest current (``CSINS_SIGNING_KEYS_DIR``);
    when neither is set, keys are generated under ``{data_dir}/receipt-keys`` with a warning."""
    checkpoint_file: Path | None = None
    """The append-only file every signed checkpoint of the receipt log is also written to
    (``CSINS_CHECKPOINT_FILE``); unset: ``receipt-checkpoints.jsonl`` in the data dir. Keep it
    where the database's users cannot write (see docs/deploy.md)."""
    cookie_secure: bool = True
    """Whether the admin pages' session cookie is marked ``Secure`` (``CSINS_COOKIE_SECURE``,
    true by default): sent over https only. ``run`` turns it off for the plain http it serves
    on the loopback address; a deployment behind a TLS proxy keeps it on."""
    trusted_proxies: int = 0
    """How many proxies in front of the web processes are trusted to set ``X-Forwarded-For``,
    ``-Proto``, ``-Host`` and ``-Port`` (``CSINS_TRUSTED_PROXIES``, 0 by default: the headers are
    ignored, so a client cannot claim https or another host)."""
    log_level: str = "INFO"
    """How much ``serve``, ``worker`` and ``scheduler`` log (``CSINS_LOG_LEVEL``: DEBUG, INFO,
    WARNING or ERROR); alerts are warnings, so WARNING still shows every one."""

    def profile_path(self, system: str) -> Path:
        """The importer profile YAML for ``system``: the LA's own if present, else ours."""
        own = self.config_dir / "profiles" / f"{system}.yaml"
        return own if own.exists() else DEFAULT_CONFIG_DIR / "profiles" / f"{system}.yaml"

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields replaced (tests and CLI options)."""
        return replace(self, **changes)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc})") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping at the top level")
    return loaded


def _as_int(name: str, value: Any, minimum: int = 0) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name}: expected a whole number, got {value!r}") from None
    if isinstance(value, bool) or number < minimum:
        raise SettingsError(f"{name}: expected a whole number >= {minimum}, got {value!r}")
    return number


def _as_date(name: str, value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name}: expected an ISO date (YYYY-MM-DD), got {value!r}") from None


def _log_level(value: str) -> str:
    level = value.strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"CSINS_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}, got {value!r}"
        )
    return level


def _web_secret(value: str) -> str | None:
    value = value.strip()
    if value and len(value) < WEB_SECRET_MIN_CHARS:
        raise SettingsError(
            f"CSINS_WEB_SECRET: expected at least {WEB_SECRET_MIN_CHARS} random characters"
        )
    return value or None


def _as_flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("true", "yes", "1", "on"):
        return True
    if value in ("false", "no", "0", "off"):
        return False
    raise SettingsError(f"{name}: expected true or false, not '{value}'")


def _as_path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name, "").strip()
    return Path(value) if value else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in (p.strip() for p in value.split(",")) if part]
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def parse_encryption_keys(name: str, value: str) -> tuple[tuple[str, bytes], ...]:
    """Parse ``"kid1:base64key,kid0:base64key"`` (commas or newlines): the first key is current.

    Each key id is 1-32 letters, digits, ``_`` or ``-``; each key is base64 (standard or URL-safe)
    of exactly 32 random bytes. Lines starting with ``#`` are ignored (key files may comment).
    """
    keys: list[tuple[str, bytes]] = []
    entries = (
        e.strip()
        for line in value.splitlines()
        if not line.strip().startswith("#")
        for e in line.split(",")
    )
    for entry in (e for e in entries if e):
        kid, sep, encoded = entry.partition(":")
        kid = kid.strip()
        if not sep or not _KEY_ID.match(kid):
            raise SettingsError(
                f"{name}: expected entries 'kid:base64key' with a key id of "
                "letters, digits, '_' or '-' (at most 32)"
            )
        try:
            key = base64.b64decode(
                encoded.strip().replace("-", "+").replace("_", "/"), validate=True
            )
        except (binascii.Error, ValueError):
            raise SettingsError(f"{name}: key '{kid}' is not valid base64") from None
        if len(key) != ENCRYPTION_KEY_BYTES:
            raise SettingsError(
                f"{name}: key '{kid}' must decode to {ENCRYPTION_KEY_BYTES} bytes, got {len(key)}"
            )
        if any(kid == seen for seen, _ in keys):
            raise SettingsError(f"{name}: key id '{kid}' appears twice")
        keys.append((kid, key))
    return tuple(keys)


def _policy(raw: Mapping[str, Any]) -> Policy:
    known = set(Policy.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(f"policy.yaml: unknown setting(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name in ("review_decision_working_days", "death_notification_working_days"):
        if name in raw:  # a period to send something in: at least the next working day
            values[name] = _as_int(name, raw[name], minimum=1)
    for name in (
        "due_soon_working_days",
        "calendar_first_year",
        "calendar_last_year",
        "stuck_delivery_seconds",
        "stuck_import_seconds",
    ):
        if name in raw:
            values[name] = _as_int(name, raw[name])
    if "quick_tries" in raw:
        values["quick_tries"] = _as_int("quick_tries", raw["quick_tries"], minimum=1)
    if "retry_schedule_seconds" in raw:
        schedule = tuple(
            _as_int("retry_schedule_seconds", s, minimum=1)
            for s in _as_list(raw["retry_schedule_seconds"])
        )
        if not schedule:
            raise SettingsError("retry_schedule_seconds: expected at least one interval")
        values["retry_schedule_seconds"] = schedule
    if "extra_closure_dates" in raw:
        values["extra_closure_dates"] = tuple(
            sorted(_as_date("extra_closure_dates", d) for d in _as_list(raw["extra_closure_dates"]))
        )
    policy = Policy(**values)
    if policy.calendar_first_year > policy.calendar_last_year:
        raise SettingsError("calendar_first_year: must not be after calendar_last_year")
    return policy


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, YAML, ``env`` (``os.environ`` when None), then ``overrides``."""
    environ = os.environ if env is None else env
    config_dir = Path(environ.get("CSINS_CONFIG_DIR", "") or DEFAULT_CONFIG_DIR)
    if not config_dir.is_dir():
        raise SettingsError(f"CSINS_CONFIG_DIR: {config_dir} is not a folder")
    settings = Settings(
        config_dir=config_dir,
        data_dir=Path(environ.get("CSINS_DATA_DIR", "") or "var"),
        database_url=environ.get("DATABASE_URL") or None,
        redis_url=environ.get("REDIS_URL") or None,
        **_export_limits(environ),
        policy=_policy(_policy_raw(environ, config_dir)),
        addressees=_addressees(environ, config_dir),
        environ=dict(environ),
        encryption_keys=parse_encryption_keys(
            "CSINS_ENCRYPTION_KEYS", environ.get("CSINS_ENCRYPTION_KEYS", "")
        ),
        encryption_keys_file=_as_path(environ, "CSINS_ENCRYPTION_KEYS_FILE"),
        signing_key_file=_as_path(environ, "CSINS_SIGNING_KEY_FILE"),
        alert_webhook_url=environ.get("CSINS_ALERT_WEBHOOK_URL") or None,
        web_secret=_web_secret(environ.get("CSINS_WEB_SECRET", "")),
        signing_keys_dir=_as_path(environ, "CSINS_SIGNING_KEYS_DIR"),
        log_level=_log_level(environ.get("CSINS_LOG_LEVEL", "")),
        checkpoint_file=_as_path(environ, "CSINS_CHECKPOINT_FILE"),
        cookie_secure=_as_flag(environ, "CSINS_COOKIE_SECURE", True),
        trusted_proxies=_as_int(
            "CSINS_TRUSTED_PROXIES", environ.get("CSINS_TRUSTED_PROXIES", 0), 0
        ),
    )
    return settings.with_overrides(**overrides) if overrides else settings


def _policy_raw(environ: Mapping[str, str], config_dir: Path) -> dict[str, Any]:
    """The policy as written: the defaults' YAML, the LA's YAML over it, then the environment."""
    policy_raw = {**_read_yaml(DEFAULT_CONFIG_DIR / "policy.yaml")}
    if config_dir != DEFAULT_CONFIG_DIR:
        policy_raw.update(_read_yaml(config_dir / "policy.yaml"))
    if "CSINS_EXTRA_CLOSURE_DATES" in environ:
        policy_raw["extra_closure_dates"] = environ["CSINS_EXTRA_CLOSURE_DATES"]
    if "CSINS_DUE_SOON_WORKING_DAYS" in environ:
        policy_raw["due_soon_working_days"] = environ["CSINS_DUE_SOON_WORKING_DAYS"]
    return policy_raw


def _addressees(environ: Mapping[str, str], config_dir: Path) -> dict[str, Any]:
    """The addressees' YAML: ``CSINS_ADDRESSEES_FILE``, else the config folder's, else ours."""
    addressees_file = _as_path(environ, "CSINS_ADDRESSEES_FILE")
    if addressees_file is not None and not addressees_file.is_file():
        raise SettingsError(f"CSINS_ADDRESSEES_FILE: {addressees_file} is not a file")
    if addressees_file is not None:
        return _read_yaml(addressees_file)
    return _read_yaml(config_dir / "addressees.yaml") or _read_yaml(
        DEFAULT_CONFIG_DIR / "addressees.yaml"
    )


def _export_limits(environ: Mapping[str, str]) -> dict[str, int]:
    """The size limits of an uploaded export, each at least 1 (the defaults above)."""
    limits = {
        "max_export_bytes": ("CSINS_MAX_EXPORT_BYTES", MAX_EXPORT_BYTES),
        "max_export_rows": ("CSINS_MAX_EXPORT_ROWS", MAX_EXPORT_ROWS),
        "max_xlsx_strings_bytes": ("CSINS_MAX_XLSX_STRINGS_BYTES", MAX_XLSX_STRINGS_BYTES),
        "max_xlsx_strings": ("CSINS_MAX_XLSX_STRINGS", MAX_XLSX_STRINGS),
    }
    return {
        field: _as_int(name, environ.get(name, default), 1)
        for field, (name, default) in limits.items()
    }
