"""Fixtures for the admin pages: the whole service (tests/support/service.py) with data in it.

``world`` holds two local authorities' incidents, delivered through the real worker to the
sandbox receiver, with Ofsted refusing every delivery for good: so there are acknowledged
deliveries with signed receipts, failed deliveries to retry, deadlines and audit lines, in LA 812
and LA 813, and keys of every role to look at them with.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from adapter.clock import utcnow
from adapter.queue import enqueue_deliveries
from adapter.sandbox.state import Fault
from adapter.service import casework
from adapter.store.api_keys import Principal, create_key
from tests.support.api import new_record
from tests.support.service import Service

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/admin/sign-in") -> str:
    """The CSRF token the page at ``path`` puts in its forms."""
    page = client.get(path)
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, key: str) -> Any:
    """Sign in through the form, as a person would; returns the POST's response."""
    return client.post("/admin/sign-in", data={"api_key": key, "csrf_token": csrf_token(client)})


@dataclass
class Incident:
    id: str
    reference: str
    la: str


@dataclass
class World:
    """Data of two LAs and a key of each role; ``client(role, la)`` is a signed-in browser."""

    service: Service
    keys: dict[tuple[str, str], str] = field(default_factory=dict)
    incidents: dict[str, list[Incident]] = field(default_factory=dict)

    def key(self, role: str, la: str = "812") -> str:
        if (role, la) not in self.keys:
            self.keys[role, la] = self.service.key(role, la)
        return self.keys[role, la]

    def client(self, role: str = "admin", la: str = "812") -> FlaskClient:
        client = self.service.app.test_client()
        response = sign_in(client, self.key(role, la))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def submit(self, la: str, *, child: dict[str, Any] | None = None, **incident: Any) -> Incident:
        """Submit a record through the casework service (obligations and deliveries follow) and
        put its deliveries on the queue, as the API does."""
        with self.service.database.session_scope() as session:
            key = create_key(session, la_code=la, role="local_authority")
            principal = Principal(key_id=key.key_id, la_code=la, role="local_authority")
            record = new_record(la=la, **incident)
            record["children"][0].update(child or {})
            submitted = casework.submit(
                session,
                self.service.database.keyring,
                self.service.settings.policy,
                principal,
                record,
                now=utcnow(),
            )
            pending = [(d.id, d.addressee) for d in submitted.deliveries]
            made = Incident(submitted.incident.id, submitted.incident.reference, la)
        enqueue_deliveries(self.service.settings, pending)
        self.incidents.setdefault(la, []).append(made)
        return made


@pytest.fixture
def world(service: Service) -> Iterator[World]:
    """One incident in LA 812 and one in LA 813, delivered; Ofsted refuses every delivery."""
    service.sandbox.state.add_faults([Fault(addressee="ofsted", status=400)])
    made = World(service)
    made.submit("812")
    made.submit("813")
    service.work()
    yield made
