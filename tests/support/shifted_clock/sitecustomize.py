"""Runs every Python process of a test run at another date (``tests/at-date``, README).

``tests/at-date`` puts this folder first on ``PYTHONPATH`` and sets
``TEST_CLOCK_OFFSET_SECONDS`` (seconds from the real clock to the date asked for): each Python
process started under it (pytest, the workers and CLIs its tests start) moves its clock by that
same offset and lets it tick, so all of them agree on the time. Servers that are not Python
(Redis, PostgreSQL, Chromium) keep the real clock, as they would in production.
"""

import os

_offset = os.environ.get("TEST_CLOCK_OFFSET_SECONDS")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
