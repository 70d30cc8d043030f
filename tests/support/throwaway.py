"""A throwaway PostgreSQL database, made and dropped around a block.

Plain Python (no pytest): the tests' per-module databases (:mod:`tests.support.databases`) and
the benchmarks (``bench/``) both make theirs here.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url


@contextlib.contextmanager
def throwaway_postgresql(server: str | URL, prefix: str) -> Iterator[str]:
    """A new database named ``prefix`` and 12 random hex digits on ``server``'s PostgreSQL
    server (never the database ``server`` names); yields its URL and drops it (``FORCE``:
    whatever is still connected) afterwards."""
    server_url = make_url(server)
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
