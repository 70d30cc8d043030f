"""Fixtures of the calendar feed and digest tests: the whole service (tests/support/service.py)."""

from __future__ import annotations

import pytest

from tests.support.service import Service


@pytest.fixture
def la_key(service: Service) -> str:
    """A ``local_authority`` key of LA 812."""
    return service.key("local_authority", "812")
