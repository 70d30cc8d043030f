"""Small field helpers shared by the schemas: code-list fields, bounded strings, error shapes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

MAX_TEXT = 20_000
"""Longest free-text field (characters): case summaries and descriptions."""

MAX_SHORT = 200
"""Longest short string (characters): names, references, roles."""


def code(values: tuple[str, ...], **kwargs: Any) -> fields.String:
    """A string field that must be one of ``values``; the error names every allowed value."""
    choices = ", ".join(values)
    return fields.String(
        validate=validate.OneOf(
            values, error="'{input}' is not allowed; expected one of: {choices}"
        ),
        # A number or a list where a code goes: the same message, naming the codes (§3).
        error_messages={"invalid": f"expected one of: {choices}"},
        **kwargs,
    )


def date_field(**kwargs: Any) -> fields.Date:
    """A calendar date; the error says the form expected (``20/11/2025`` is a common one)."""
    return fields.Date(
        error_messages={"invalid": "not a date: expected YYYY-MM-DD (ISO 8601)"}, **kwargs
    )


def optional_code(values: tuple[str, ...]) -> fields.String:
    return code(values, allow_none=True, load_default=None)


def text(length: int = MAX_SHORT, **kwargs: Any) -> fields.String:
    """A bounded string; optional ones default to None so loaded records are complete."""
    if not kwargs.get("required"):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("load_default", None)
    kwargs.setdefault("validate", validate.Length(max=length))
    return fields.String(**kwargs)


def nest(problems: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Dotted paths (``children.0.sex``) to marshmallow's nested error dict."""
    tree: dict[Any, Any] = {}
    for path, message in problems:
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            key: Any = int(part) if part.isdigit() else part
            node = node.setdefault(key, {})
        node.setdefault(int(leaf) if leaf.isdigit() else leaf, []).append(message)
    return tree


def flatten(messages: Mapping[Any, Any] | list[Any], prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow's nested error dict to ``(dotted path, message)`` pairs, in a stable order."""
    if isinstance(messages, list):
        out: list[tuple[str, str]] = []
        for item in messages:
            if isinstance(item, dict | list):
                out += flatten(item, prefix)
            else:
                out.append((prefix or "_schema", str(item)))
        return out
    pairs: list[tuple[str, str]] = []
    for key in sorted(messages, key=str):
        path = f"{prefix}.{key}" if prefix else str(key)
        pairs += flatten(messages[key], path)
    return pairs


def raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        raise ValidationError(nest(problems))


class StrictInteger(fields.Integer):
    """A JSON integer only: not a boolean, a float or a numeric string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("expected a JSON integer")
        return int(super()._deserialize(value, attr, data, **kwargs))


class StrictBoolean(fields.Boolean):
    """A JSON boolean only: not 0/1 or ``"true"``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("expected a JSON boolean")
        return value
