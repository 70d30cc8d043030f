"""What a worker process needs, built once per process from the settings (never at import)."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapter.delivery import Channel, channel_for
from adapter.delivery.base import QuickRetry
from adapter.delivery.routes import Routes
from adapter.queue import RqPublisher
from adapter.receipts import SigningKeyring, load_keyring
from adapter.store import Database
from config.settings import Settings, load_settings


@dataclass
class WorkerContext:
    settings: Settings
    database: Database
    signer: SigningKeyring
    routes: Routes
    """The checked routes of ``config/addressees.yaml``: which channel carries what."""
    _channels: dict[tuple[str, str], Channel] = field(default_factory=dict)

    def channel(self, addressee: str, name: str | None = None) -> Channel:
        """The addressee's channel ``name`` (by default the entry's own ``channel``) as
        ``config/addressees.yaml`` configures it, built once. Never ``csins``: a person is not
        a channel that sends (:mod:`adapter.service.assisted`)."""
        name = name or self.routes.default_channel(addressee)
        if (addressee, name) not in self._channels:
            self._channels[addressee, name] = channel_for(
                addressee,
                self.routes.channel_settings(addressee, name),
                self.settings.environ,
                retry=QuickRetry(tries=self.settings.policy.quick_tries),
            )
        return self._channels[addressee, name]

    def close(self) -> None:
        """Close the channels' kept-alive connections (the context stays usable)."""
        for channel in self._channels.values():
            channel.close()


_current: WorkerContext | None = None


def build_context(settings: Settings, database: Database | None = None) -> WorkerContext:
    """A context from ``settings``; ``database`` shares an already configured one (tests).

    Checks the routes first: a process does not start with an ``addressees.yaml`` naming an
    unknown addressee, document, channel or key (:class:`~adapter.delivery.RouteConfigError`).
    """
    routes = Routes(settings.addressees)
    if database is None:
        database = Database()
        database.configure(settings)
        # What a job's transactions queue (a catch-up amendment, an import's deliveries) is
        # published when they commit; a database shared with an app keeps the app's publisher.
        database.publisher = RqPublisher(settings)
    signer = load_keyring(
        settings.data_dir, key_file=settings.signing_key_file, keys_dir=settings.signing_keys_dir
    )
    return WorkerContext(settings=settings, database=database, signer=signer, routes=routes)


def context() -> WorkerContext:
    """This process's context (built from the environment on first use)."""
    global _current
    if _current is None:
        _current = build_context(load_settings())
    return _current


def use_context(value: WorkerContext | None) -> None:
    """Install a context (tests, and ``csins-adapter run`` sharing one with its threads); the
    one it replaces has its connections closed."""
    global _current
    if _current is not None and _current is not value:
        _current.close()
    _current = value
