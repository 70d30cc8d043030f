"""Tenancy: every query is scoped to the caller's local authority (DESIGN.md §7, roles).

A scope is an LA code (``"812"``) or :data:`ALL_LAS` (``"*"``), the scope of an admin key created
for every LA and of the service's own jobs. Reads outside the scope find nothing: a caller of LA A
cannot tell LA B's incident from one that does not exist.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from adapter.store.access_models import ALL_LAS
from adapter.store.errors import OutOfScope

__all__ = ["ALL_LAS", "require_la", "scoped"]

_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])


def scoped(statement: _Select, la_column: InstrumentedAttribute[str], la_scope: str) -> _Select:
    """``statement`` limited to rows of ``la_scope`` (unchanged for :data:`ALL_LAS`)."""
    if not la_scope:
        raise OutOfScope("an empty LA scope matches nothing: pass an LA code or '*'")
    return statement if la_scope == ALL_LAS else statement.where(la_column == la_scope)


def require_la(la_scope: str, la_code: str) -> str:
    """``la_code`` when the scope may write for it; raises :class:`OutOfScope` otherwise."""
    if not la_code or la_code == ALL_LAS:
        raise OutOfScope("a record belongs to one local authority, not to '*'")
    if la_scope not in (ALL_LAS, la_code):
        raise OutOfScope(f"this key acts for LA {la_scope}, not for LA {la_code}")
    return la_code
