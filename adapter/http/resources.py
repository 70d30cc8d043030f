"""The resources one app holds (settings, database), attached by ``init_app``, never at import."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from adapter.delivery.routes import Routes
from adapter.queue import RqPublisher
from adapter.receipts import SigningKeyring
from adapter.receipts.log import signer_for
from adapter.store import Database
from adapter.store.crypto import Keyring
from adapter.store.publishing import Publisher
from config.settings import Settings

_KEY = "csins"


@dataclass
class Resources:
    settings: Settings
    database: Database
    routes: Routes
    """The checked routes of ``config/addressees.yaml`` (which channel carries what)."""
    _signer: SigningKeyring | None = None
    _signer_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keyring(self) -> Keyring:
        return self.database.keyring

    def signer(self) -> SigningKeyring:
        """The receipt-signing keyring, loaded from the configured key files on first use."""
        if self._signer is None:
            with self._signer_lock:
                if self._signer is None:
                    self._signer = signer_for(self.settings)
        return self._signer

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        with self.database.session_scope() as session:
            yield session


def init_app(app: Flask, settings: Settings, publisher: Publisher | None = None) -> Resources:
    """Attach the app's database; what its transactions queue is published through
    ``publisher`` (RQ on the settings' Redis by default)."""
    # An addressees.yaml naming an unknown addressee, document, channel or key stops the start.
    routes = Routes(settings.addressees)
    database = Database()
    database.configure(settings)
    database.publisher = publisher or RqPublisher(settings)
    _ = database.keyring  # a misconfigured encryption key fails at start-up, not mid-request
    resources = Resources(settings=settings, database=database, routes=routes)
    app.extensions[_KEY] = resources
    return resources


def resources() -> Resources:
    """The current app's resources."""
    found: Resources = current_app.extensions[_KEY]
    return found
