"""The suite's clock: one "today" that every in-process test sees, whatever day it runs.

The factories build records of an incident on 2026-11-20 that the LA learnt of on Monday
2026-11-23, with events on the following days, so deadline statuses (``pending``, ``met``,
``overdue``…) and receipts' ``on_time`` depend on what day it is. Every test therefore runs with
the service's clock moved to :data:`NOW` (and ticking from there, so timeouts and queues still
move), unless it is marked ``real_clock``: those are the tests whose service runs in other
processes (workers, ``run``, the CLI), which cannot see this clock; they build their dates from
the real today instead, and are run at other dates by ``tests/at-date`` (every Python process
moved by one offset; ``make test-dates``, README "Tests and the date").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine

from adapter.clock import LONDON

TODAY = dt.date(2026, 11, 27)
"""The suite's "today": a Friday, a week after the factories' incident (2026-11-20) and four
days after the LA became aware of it (2026-11-23)."""

NOW = dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=LONDON)
"""The instant each test starts at: mid-morning in London on :data:`TODAY`."""


REAL_CLOCK_FOLDERS = ("tests/e2e/",)
"""Folders whose tests run the service in other processes (see the module docstring)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test of :data:`REAL_CLOCK_FOLDERS` ``real_clock``."""
    for item in items:
        if any(folder in item.nodeid for folder in REAL_CLOCK_FOLDERS):
            item.add_marker(pytest.mark.real_clock)


def travel(to: dt.datetime | dt.date) -> time_machine.travel:
    """A ticking trip to ``to`` (a date means 10:00 in London that day), for a test that needs
    another day than :data:`TODAY`: ``with travel(TODAY + dt.timedelta(days=30)): ...``."""
    if not isinstance(to, dt.datetime):
        to = dt.datetime.combine(to, dt.time(10, 0), tzinfo=LONDON)
    return time_machine.travel(to, tick=True)


@pytest.fixture(autouse=True)
def service_clock(request: pytest.FixtureRequest) -> Iterator[dt.date]:
    """Moves the clock to :data:`NOW` for the test (not for ``real_clock`` tests, whose "today"
    is the real one); yields the test's today."""
    if request.node.get_closest_marker("real_clock"):
        yield dt.datetime.now(LONDON).date()
        return
    with travel(NOW):
        yield TODAY


@pytest.fixture
def today(service_clock: dt.date) -> dt.date:
    """The test's own today (Europe/London): build dates relative to it."""
    return service_clock
