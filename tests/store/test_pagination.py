"""Cursors: whatever a client sends, one this service did not issue is refused, never a crash."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.store.errors import InvalidCursor
from adapter.store.pagination import decode_cursor, encode_cursor


def _raw(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _raw(json.dumps(["audit", 2**70])),
        _raw(json.dumps(["audit", -(2**64)])),
        _raw(json.dumps(["audit", True])),
        _raw(json.dumps(["audit", None])),
        _raw("[" * 5000),
        _raw("1" * 10000),
        "not base64 at all!",
    ],
)
def test_a_cursor_not_issued_here_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor("audit", cursor, 1)


@given(st.one_of(st.text(max_size=40), st.integers(min_value=-(2**63), max_value=2**63 - 1)))
def test_an_issued_cursor_reads_back_its_key(part: str | int) -> None:
    assert decode_cursor("audit", encode_cursor("audit", [part]), 1) == [part]
