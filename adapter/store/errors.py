"""Errors of the storage layer (subclasses of the service's ``CsinsError``).

StoreError
├── OutOfScope        a write names a local authority the caller may not act for
├── RecordMismatch    an amendment changes the incident's LA code or reference
└── InvalidCursor     a pagination cursor that this service did not issue
"""

from __future__ import annotations

from adapter.errors import CsinsError


class StoreError(CsinsError):
    """Base of the storage layer's errors."""


class OutOfScope(StoreError):
    """A write names a local authority outside the caller's scope (or the all-LA scope ``*``)."""


class RecordMismatch(StoreError):
    """An amendment's record names another LA or reference than the incident it amends."""


class InvalidCursor(StoreError):
    """A ``next`` cursor that is malformed or belongs to another list."""
