"""Fixtures of the REST API tests; their helpers are in :mod:`tests.support.api`.

The ``service`` fixture (tests/support/service.py) runs every test against SQLite, and against
PostgreSQL as well when ``DATABASE_URL`` names a PostgreSQL server.
"""

from __future__ import annotations

import pytest

from tests.support.service import Service


@pytest.fixture
def la_key(service: Service) -> str:
    """A ``local_authority`` key of LA 812."""
    return service.key("local_authority", "812")
