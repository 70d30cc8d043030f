"""The source of truth (DESIGN.md §2): SQLAlchemy models, repositories and Alembic migrations.

    database.py       Database (engine, sessions, keyring), URL handling, SQLite settings
    models.py         the incident-side tables (rows named ``...Row``); importing it declares all
    access_models.py  API keys, feed tokens, audit log;  receipt_models.py  the receipt log
    types.py          the declarative base; UTC datetimes and column types on every backend
    scope.py          tenancy: every query takes an LA scope ("812" or "*")
    incidents.py      read, list and lock incidents; decrypt versions and children
    new_incidents.py      submit: one incident per reference (idempotent, race-safe)
    incident_versions.py  amend: the record's versions and children; whether facts changed
    events.py         lifecycle events;  tracker.py  the deadline tracker (obligation rows)
    outbox.py         deliveries and their attempts (the transactional outbox)
    assisted.py       assisted submissions: the open tasks of the ``csins`` channel
    import_runs.py    uploaded exports and their runs;  audit_log.py  the append-only audit log
    api_keys.py       API keys;  feed_tokens.py  calendar feed tokens;  tokens.py  their hashing
    crypto.py         AES-GCM for personal data at rest;  sealing.py  which columns, bound how
    rekey.py          re-encrypt under the current key;  migrate.py  run the migrations
    publishing.py     what to put on the queues once the transaction commits
    pagination.py     keyset cursors for ``{"items", "next"}`` lists;  errors.py  StoreError tree

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
