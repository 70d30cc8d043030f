"""JSON whose objects name each key once: how the API's bodies and the receipt files are read.

Parsers keep the first or the last of two equal keys, so what one reader checked another would
store, and a file could show a reader a forged receipt first and hand the verifier the genuine
one. A document that repeats a key in one object is refused, naming the key.
"""

from __future__ import annotations

import json
from typing import Any


class RepeatedKey(Exception):
    """A JSON object named one key twice (the key is the exception's text)."""


def loads(text: str | bytes) -> Any:
    """``json.loads`` that raises :class:`RepeatedKey` for an object naming a key twice."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RepeatedKey(key)
        found[key] = value
    return found
