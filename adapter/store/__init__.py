"""The source of truth (DESIGN.md §2): SQLAlchemy models, repositories and Alembic migrations.

    database.py     Database (engine, sessions, keyring), URL handling, SQLite settings
    models.py       the tables;  types.py  UTC datetimes on every backend
    scope.py        tenancy: every query takes an LA scope ("812" or "*")
    incidents.py    read, list and lock incidents; decrypt versions and children
    new_incidents.py      submit: one incident per reference (idempotent, race-safe)
    incident_versions.py  amend: the record's versions and children; whether facts changed
    events.py       lifecycle events;  obligations.py  the deadline tracker
    outbox.py       deliveries and their attempts (transactional outbox)
    imports.py      export-file imports;  audit.py  the append-only audit log
    sealing.py      which columns are encrypted and how each is bound to its row
    rekey.py        re-encrypt under the current key;  migrate.py  run the migrations
    pagination.py   keyset cursors for ``{"items", "next"}`` lists;  errors.py  StoreError tree

Repositories are plain functions taking a ``Session`` (and a ``Keyring`` when they touch
personal data); they flush but never commit: ``Database.session_scope()`` owns the transaction,
so an incident change and the deliveries it causes commit together or not at all.
"""

from __future__ import annotations

from adapter.store.database import Database, database_url
from adapter.store.errors import InvalidCursor, OutOfScope, RecordMismatch, StoreError
from adapter.store.pagination import Page
from adapter.store.scope import ALL_LAS

__all__ = [
    "ALL_LAS",
    "Database",
    "InvalidCursor",
    "OutOfScope",
    "Page",
    "RecordMismatch",
    "StoreError",
    "database_url",
]
