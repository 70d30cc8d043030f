"""Seeing a PostgreSQL connection wait for a lock: how the race tests know that a second
transaction is queued behind a first one they hold open (deterministic, not timed)."""

from __future__ import annotations

import time

from sqlalchemy import Engine, text

WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock'"
)


def waits_for_a_lock(engine: Engine, looks: int = 100) -> bool:
    """Whether a connection to ``engine``'s database is seen waiting for a lock within
    ``looks`` looks 50 ms apart (five seconds by default)."""
    with engine.connect() as watcher:
        for _ in range(looks):
            waiting = watcher.execute(WAITING_FOR_A_LOCK).scalar()
            watcher.rollback()
            if waiting:
                return True
            time.sleep(0.05)
    return False
