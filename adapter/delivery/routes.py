"""Routes: which channel carries each document to each addressee (DESIGN.md §6).

A route is a (document, addressee) pair. Each addressee's entry in ``config/addressees.yaml``
names a default ``channel`` and, under ``routes``, the documents that go another way::

    panel:
      name: Child Safeguarding Practice Review Panel
      channel: smtp                      # every document not listed under routes
      routes:
        incident_notification: csins     # made by a person on the online service
      smtp:                              # the settings of each channel the entry uses
        host: smtp.la.example.gov.uk
        from: csins@la.example.gov.uk
        to: [notifications@panel.example.gov.uk]

The settings of the default channel may also sit at the top of the entry (the form every entry
had before routes existed: ``channel: sandbox`` with ``endpoint: ...``), but not both ways at
once. Channels: ``csins`` (an assisted submission: a task for a person, see
:mod:`adapter.service.assisted`), ``smtp``, ``https`` and ``sandbox`` (see
:mod:`adapter.delivery.factory` for their keys). ``csins`` carries notifications and their
amendments only: the online service takes nothing else.

:class:`Routes` checks the whole file when a process starts and for ``csins-adapter config
check``: an unknown addressee, document, channel or key is refused with a
:class:`RouteConfigError` naming it. A credential named by an env var that is not set where the
check runs is not refused but reported (:attr:`Routes.notes`): it may well be set where the
worker runs, and a delivery that needs it fails, alerted, until it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from adapter.delivery.errors import ChannelConfigError, MissingCredential, RouteConfigError
from adapter.delivery.factory import CHANNEL_KEYS, channel_for
from adapter.rules.documents import NOTIFICATION_DOCUMENTS
from schemas import codes

CSINS = "csins"
"""The assisted channel: a person submits on the national online service (CSINS)."""

CHANNELS = (CSINS, "smtp", "https", "sandbox")
"""Every channel a route may name."""

CSINS_DOCUMENTS = frozenset({*NOTIFICATION_DOCUMENTS, "amendment"})
"""What the online service takes: notifications, and amendments of them (§2)."""

CSINS_KEYS = frozenset({"service_url"})
"""Settings of the ``csins`` channel: ``service_url``, the online service's address, shown as a
link on the task page (default :data:`CSINS_SERVICE_URL`)."""

CSINS_SERVICE_URL = "https://www.gov.uk/guidance/report-a-serious-child-safeguarding-incident"
"""Where a person starts a notification on the national online service."""

ENTRY_KEYS = frozenset({"name", "channel", "routes", *CHANNELS})
"""Keys every entry may hold besides its default channel's own settings."""


@dataclass(frozen=True)
class Route:
    """One document to one addressee, and the channel that carries it."""

    document: str
    addressee: str
    channel: str


class Routes:
    """The checked routes of ``addressees.yaml`` (see the module docstring)."""

    def __init__(
        self, addressees: Mapping[str, Any], environ: Mapping[str, str] | None = None
    ) -> None:
        """Check ``addressees`` (the parsed YAML); ``environ`` is where credentials are looked
        up (None: not looked up at all). Raises :class:`RouteConfigError` naming the problem."""
        if not isinstance(addressees, Mapping):
            raise RouteConfigError("*", "expected a mapping of addressees")
        unknown = sorted(set(addressees) - set(codes.ADDRESSEES))
        if unknown:
            raise RouteConfigError(
                unknown[0],
                f"unknown addressee (expected {codes.allowed(codes.ADDRESSEES)})",
            )
        missing = [name for name in codes.ADDRESSEES if name not in addressees]
        if missing:
            raise RouteConfigError(missing[0], "missing: every addressee needs an entry")
        self._entries = {name: _checked_entry(name, addressees[name]) for name in addressees}
        self.notes: list[str] = []
        """Credentials named but not set in ``environ`` (one line each)."""
        if environ is not None:
            self._check_channels(environ)

    def default_channel(self, addressee: str) -> str:
        """The channel of ``addressee``'s documents that no route names."""
        return str(self._entries[addressee]["channel"])

    def channel_of(self, document: str, addressee: str) -> str:
        """The channel that carries ``document`` to ``addressee``."""
        entry = self._entries[addressee]
        routes: Mapping[str, str] = entry.get("routes") or {}
        return str(routes.get(document, entry["channel"]))

    def channel_settings(self, addressee: str, channel: str) -> dict[str, Any]:
        """The entry :func:`~adapter.delivery.factory.channel_for` takes for ``channel``."""
        entry = self._entries[addressee]
        section = entry.get(channel)
        if section is None and channel == entry["channel"]:
            section = {k: v for k, v in entry.items() if k not in ENTRY_KEYS}
        named = {"name": entry["name"]} if "name" in entry else {}
        return {**named, **(section or {}), "channel": channel}

    def service_url(self, addressee: str) -> str:
        """The online service's address for ``addressee``'s assisted submissions."""
        url = self.channel_settings(addressee, CSINS).get("service_url")
        return str(url) if url else CSINS_SERVICE_URL

    def table(self) -> Iterator[Route]:
        """Every route, addressee by addressee, document by document."""
        for addressee in codes.ADDRESSEES:
            for document in codes.DOCUMENTS:
                yield Route(document, addressee, self.channel_of(document, addressee))

    def channels_used(self) -> set[tuple[str, str]]:
        """``(addressee, channel)`` of every channel some route names."""
        used = {(a, e["channel"]) for a, e in self._entries.items()}
        for addressee, entry in self._entries.items():
            used |= {(addressee, channel) for channel in (entry.get("routes") or {}).values()}
        return used

    def _check_channels(self, environ: Mapping[str, str]) -> None:
        """Build every channel a route uses, so a bad value is refused now, not at send time."""
        for addressee, channel in sorted(self.channels_used()):
            if channel == CSINS:
                continue
            try:
                channel_for(addressee, self.channel_settings(addressee, channel), environ).close()
            except MissingCredential as missing:
                self.notes.append(str(missing))
            except RouteConfigError:
                raise
            except ChannelConfigError as error:
                raise RouteConfigError(addressee, f"{channel}: {error.reason}") from None


def _checked_entry(addressee: str, entry: Any) -> Mapping[str, Any]:
    """One addressee's entry, its keys, channels and routes checked (no env looked up)."""
    if not isinstance(entry, Mapping):
        raise RouteConfigError(addressee, "expected a mapping of settings")
    default = entry.get("channel")
    if default not in CHANNELS:
        raise RouteConfigError(
            addressee, f"channel: expected {', '.join(CHANNELS)}, got {default!r}"
        )
    routes = entry.get("routes") or {}
    if not isinstance(routes, Mapping):
        raise RouteConfigError(addressee, "routes: expected a mapping of document: channel")
    for document, channel in routes.items():
        _check_route(addressee, document, channel)
    if default == CSINS:
        for document in codes.DOCUMENTS:
            if document not in routes and document not in CSINS_DOCUMENTS:
                raise RouteConfigError(
                    addressee,
                    f"channel: csins carries notifications only; route {document} "
                    "to another channel under routes",
                )
    flat = set(entry) - ENTRY_KEYS
    unknown = sorted(flat - _keys_of(default))
    if unknown:
        raise RouteConfigError(
            addressee, f"unknown setting(s) for a {default} channel: {', '.join(unknown)}"
        )
    if flat and default in entry:
        raise RouteConfigError(
            addressee, f"{default}: settings both at the top of the entry and under {default}"
        )
    for channel in CHANNELS:
        if channel in entry:
            _check_section(addressee, channel, entry[channel])
    return entry


def _check_route(addressee: str, document: Any, channel: Any) -> None:
    if document not in codes.DOCUMENTS:
        raise RouteConfigError(
            addressee,
            f"routes: unknown document {document!r} (expected {codes.allowed(codes.DOCUMENTS)})",
        )
    if channel not in CHANNELS:
        raise RouteConfigError(
            addressee,
            f"routes: {document}: unknown channel {channel!r} (expected {', '.join(CHANNELS)})",
        )
    if channel == CSINS and document not in CSINS_DOCUMENTS:
        raise RouteConfigError(
            addressee,
            f"routes: {document}: csins carries notifications and amendments only",
        )


def _check_section(addressee: str, channel: str, section: Any) -> None:
    if not isinstance(section, Mapping):
        raise RouteConfigError(addressee, f"{channel}: expected a mapping of settings")
    unknown = sorted(set(section) - _keys_of(channel) - {"name"})
    if "channel" in section:
        unknown.insert(0, "channel")
    if unknown:
        raise RouteConfigError(
            addressee,
            f"{channel}: unknown setting(s) for a {channel} channel: {', '.join(unknown)}",
        )


def _keys_of(channel: str) -> frozenset[str]:
    """The settings keys of ``channel`` (without ``name`` and ``channel``)."""
    if channel == CSINS:
        return CSINS_KEYS
    return frozenset(CHANNEL_KEYS[channel] - {"name", "channel"})
