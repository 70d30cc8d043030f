"""Keyset pagination: lists answer ``{"items": [...], "next": cursor-or-null}`` (DESIGN.md §7).

A cursor is the sort key of the last item returned, base64url-encoded JSON tagged with the list it
belongs to. Keyset (not offset) paging stays correct while rows are being added. A list names its
:class:`Keyset` once and asks :func:`keyset_page` for a page of its filtered statement.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from adapter.store.errors import InvalidCursor

DEFAULT_PAGE_SIZE = 50
"""Items per page when the caller does not say (items)."""

MAX_PAGE_SIZE = 200
"""Most items one page may hold (items)."""

NOT_ISSUED = "the cursor is not one this service issued"
"""What :class:`InvalidCursor` says of a cursor whose parts no list of ours could have written."""

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the cursor of the next one (None on the last page)."""

    items: list[T]
    next: str | None


def page_size(limit: int | None) -> int:
    """``limit`` clamped to 1..:data:`MAX_PAGE_SIZE`; :data:`DEFAULT_PAGE_SIZE` when None."""
    return DEFAULT_PAGE_SIZE if limit is None else max(1, min(int(limit), MAX_PAGE_SIZE))


def encode_cursor(kind: str, key: Sequence[str | int]) -> str:
    """A cursor for the list ``kind`` that resumes after the item whose sort key is ``key``."""
    raw = json.dumps([kind, *key], separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: str, arity: int) -> list[str | int]:
    """The sort key inside ``cursor``; :class:`InvalidCursor` unless it was issued for ``kind``.

    Whatever the client sent, a cursor that cannot be read is that error and never a crash: bad
    base64 or UTF-8, bad JSON, numbers too long to parse, nesting too deep for the parser.
    Each list still checks that the parts fit its sort key (and the database's columns).
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError):
        raise InvalidCursor("the cursor is not one this service issued") from None
    if (
        not isinstance(decoded, list)
        or len(decoded) != arity + 1
        or decoded[0] != kind
        or not all(_key_part(part) for part in decoded[1:])
    ):
        raise InvalidCursor(f"the cursor does not belong to the {kind} list")
    return decoded[1:]


def page_from(
    rows: Sequence[T], limit: int, kind: str, key_of: Callable[[T], Sequence[str | int]]
) -> Page[T]:
    """A page from ``rows`` fetched with ``limit + 1``: the extra row only says there is more."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(kind, key_of(items[-1])) if more and items else None)


@dataclass(frozen=True)
class Keyset(Generic[T]):
    """How one list pages: the name its cursors carry (``kind``), the columns it is sorted on,
    how a cursor's parts become those columns' values (``parse`` raises ``ValueError`` or
    :class:`InvalidCursor` for parts this list never wrote), and an item's sort key."""

    kind: str
    columns: tuple[InstrumentedAttribute[Any], ...]
    parse: Callable[[Sequence[str | int]], Sequence[Any]]
    key_of: Callable[[T], Sequence[str | int]]
    descending: bool = False
    """Newest first: the page resumes *before* the cursor's key."""

    def key(self, cursor: str) -> Sequence[Any]:
        """The columns' values ``cursor`` resumes after, or :class:`InvalidCursor`."""
        parts = decode_cursor(self.kind, cursor, len(self.columns))
        try:
            return self.parse(parts)
        except ValueError:
            raise InvalidCursor(NOT_ISSUED) from None


def keyset_page(
    session: Session,
    statement: Select[T],
    keyset: Keyset[T],
    *,
    cursor: str | None,
    limit: int | None,
) -> Page[T]:
    """One page of ``statement`` (filters applied, not ordered) in ``keyset`` order, resuming
    after ``cursor``; ``limit`` as :func:`page_size` reads it."""
    size = page_size(limit)
    if cursor is not None:
        resume = before if keyset.descending else after
        statement = statement.where(resume(keyset.columns, keyset.key(cursor)))
    order = [column.desc() for column in keyset.columns] if keyset.descending else keyset.columns
    rows = session.scalars(statement.order_by(*order).limit(size + 1)).all()
    return page_from(rows, size, keyset.kind, keyset.key_of)


def time_and_id(parts: Sequence[str | int]) -> tuple[dt.datetime, str]:
    """A cursor's ``(created_at, id)`` parts as the columns' values (``ValueError`` if not)."""
    created_at, row_id = parts
    return dt.datetime.fromisoformat(str(created_at)), str(row_id)


def after(columns: Sequence[InstrumentedAttribute[Any]], key: Sequence[Any]) -> ColumnElement[bool]:
    """``(columns) > (key)``, each value bound with its column's type (UTC datetimes included)."""
    return tuple_(*columns) > _bound(columns, key)


def before(
    columns: Sequence[InstrumentedAttribute[Any]], key: Sequence[Any]
) -> ColumnElement[bool]:
    """``(columns) < (key)``: :func:`after` for a list sorted newest first."""
    return tuple_(*columns) < _bound(columns, key)


def _bound(columns: Sequence[InstrumentedAttribute[Any]], key: Sequence[Any]) -> ColumnElement[Any]:
    values = [literal(value, column.type) for column, value in zip(columns, key, strict=True)]
    return tuple_(*values)


def _key_part(part: object) -> bool:
    """A sort key's part: text, or a whole number a 64-bit column can hold (the database would
    fail on a larger one, as a 500 rather than a refused cursor)."""
    if isinstance(part, bool):
        return False
    return isinstance(part, str) or (isinstance(part, int) and -(2**63) <= part < 2**63)
