"""Fixtures of the delivery tests: a real sandbox receiver and a scripted addressee on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapter.sandbox import RunningSandbox, start_in_thread
from tests.delivery.helpers import ScriptedAddressee


@pytest.fixture
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox receiver serving on a free port for the length of one test."""
    with start_in_thread() as running:
        yield running


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One HTTP client for the tests' own calls to the sandbox (its TLS setup costs ~0.1 s)."""
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        yield client


@pytest.fixture
def addressee() -> Iterator[ScriptedAddressee]:
    """An addressee on a free loopback port answering what the test sets (``answer``)."""
    with ScriptedAddressee() as running:
        yield running
