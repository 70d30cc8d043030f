"""The resources one app holds (settings, database), attached by ``init_app``, never at import."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy.orm import Session

from adapter.crypto import Keyring
from adapter.queueing import RqPublisher
from adapter.store import Database
from adapter.store.publishing import Publisher
from config.settings import Settings

_KEY = "csins"


@dataclass
class Resources:
    settings: Settings
    database: Database

    @property
    def keyring(self) -> Keyring:
        return self.database.keyring

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        with self.database.session_scope() as session:
            yield session


def init_app(app: Flask, settings: Settings, publisher: Publisher | None = None) -> Resources:
    """Attach the app's database; what its transactions queue is published through
    ``publisher`` (RQ on the settings' Redis by default)."""
    database = Database()
    database.configure(settings)
    database.publisher = publisher or RqPublisher(settings)
    _ = database.keyring  # a misconfigured encryption key fails at start-up, not mid-request
    resources = Resources(settings=settings, database=database)
    app.extensions[_KEY] = resources
    return resources


def resources() -> Resources:
    """The current app's resources."""
    found: Resources = current_app.extensions[_KEY]
    return found
