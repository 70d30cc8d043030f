"""Binding a profile to one export's header row: which column carries each field, and its parser.

Each column gets one parser, compiled once, that turns a cell into the record's value (``None``
for blank and sentinel cells) or raises :class:`ValueError` saying what was expected. The limits
and formats of text fields (lengths, LA code, postcode, UPN, NHS number, email) are taken from
:class:`schemas.incident.IncidentRecordSchema` itself, so a converted record always loads.
Columns whose cells repeat (codes, flags, dates) remember what they parsed: the hot path of a
conversion is then one dictionary lookup per cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError, fields, validate

from adapter.errors import ExportError, UnrecognisedExport
from adapter.importers import values
from adapter.importers.profiles import FIELD_KINDS, REQUIRED_VALUES, Profile, header_key
from schemas.incident import IncidentRecordSchema, normalise_postcode
from schemas.references import normalise_reference

Parser = Callable[[str], Any]

_RECORD_SCHEMA = IncidentRecordSchema()

MEMO_LIMIT = 2048
"""Most cells per column whose parsed value is remembered (bounds memory on huge exports)."""

DATE_MEMO_LIMIT = 16_384
"""Most dates remembered, shared by all date columns: enough for every birth date of a large
export (17 years of days) at about 3 MB."""

_REMEMBERED_KINDS = {"code", "ethnicity", "flag", "date", "date_time", "time", "postcode"}
"""Kinds of column whose cells repeat across rows, so remembering them pays."""

_REMEMBERED_TEXT = {
    "local_authority.code",
    "local_authority.name",
    "notifier.name",
    "notifier.role",
    "notifier.email",
    "notifier.phone",
    "child.placement_type",
}
"""Text columns that repeat too (names, ids and case summaries do not: not remembered)."""


@dataclass(frozen=True, slots=True)
class Column:
    """One export column bound to an input field."""

    field: str
    header: str
    """As the export writes it (for error reports)."""
    index: int
    parse: Parser
    required: bool
    """A blank (or placeholder) cell is a problem: §3 requires the field."""
    memo_limit: int = 0
    """How many parsed cells :attr:`memo` keeps: none for names, ids and free text, which do
    not repeat; :data:`MEMO_LIMIT`, or :data:`DATE_MEMO_LIMIT` shared by the date columns."""
    memo: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    """Cells already parsed → their value (parsers are pure; exports repeat codes, flags and
    dates on many rows)."""


@dataclass(frozen=True)
class Layout:
    """Where each field is in this export, and how to read it."""

    profile: Profile
    width: int
    """Cells per row: the header's."""
    reference: Column
    incident: tuple[Column, ...]
    """Incident-level columns except the reference: they must agree across an incident's rows."""
    child: tuple[Column, ...]
    by_field: Mapping[str, Column]

    def has(self, field: str) -> bool:
        return field in self.by_field

    def header(self, field: str) -> str:
        """The column that carries ``field``, or the profile's name for it when absent."""
        column = self.by_field.get(field)
        if column is not None:
            return column.header
        aliases = self.profile.columns.get(field)
        return aliases[0] if aliases else field


def bind(profile: Profile, headers: Sequence[str]) -> Layout:
    """The layout of an export whose header row is ``headers``.

    Raises :class:`UnrecognisedExport` when a required column is missing, and
    :class:`ExportError` when a column the profile uses appears twice (which one holds the value?).
    """
    keys = [header_key(header) for header in headers]
    lacking = profile.missing_columns(keys)
    if lacking:
        raise UnrecognisedExport({profile.system: lacking})
    positions: dict[str, list[int]] = {}
    for index, key in enumerate(keys):
        positions.setdefault(key, []).append(index)
    by_field: dict[str, Column] = {}
    dates: dict[str, Any] = {}  # one memo for every date column: they share their values
    for field, aliases in profile.columns.items():
        alias = next((alias for alias in aliases if alias in positions), None)
        if alias is None:
            continue
        if len(positions[alias]) > 1:
            raise ExportError(
                f"column {alias} appears {len(positions[alias])} times in the "
                "header row: which one holds the value?"
            )
        index = positions[alias][0]
        by_field[field] = Column(
            field,
            headers[index].strip(),
            index,
            _parser(field, profile),
            field in REQUIRED_VALUES,
            *_memo(field, dates),
        )
    incident = tuple(
        c for f, c in by_field.items() if not f.startswith("child.") and f != "incident.reference"
    )
    child = tuple(c for f, c in by_field.items() if f.startswith("child."))
    return Layout(profile, len(headers), by_field["incident.reference"], incident, child, by_field)


def _memo(field: str, dates: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """How many parsed cells a column remembers, and where."""
    kind = FIELD_KINDS[field]
    if kind == "date":
        return DATE_MEMO_LIMIT, dates
    if kind in _REMEMBERED_KINDS or field in _REMEMBERED_TEXT:
        return MEMO_LIMIT, {}
    return 0, {}


def _parser(field: str, profile: Profile) -> Parser:
    kind = FIELD_KINDS[field]
    if kind in ("text", "key"):
        return _text_parser(field, profile, kind == "key")
    if kind in ("code", "ethnicity"):
        return _code_parser(field, profile)
    if kind == "postcode":
        return _postcode_parser(field, profile)
    typed: Parser = {
        "date": values.parse_date,
        "date_time": values.parse_date_time,
        "time": values.parse_time,
        "flag": values.parse_flag,
        "whole_number": values.parse_whole_number,
    }[kind]
    return _or_blank(typed, profile, _schema_check(field))


def _or_blank(typed: Parser, profile: Profile, check: Parser | None) -> Parser:
    """``typed``, with a sentinel (``UNKNOWN``) read as blank when the cell does not parse."""
    blank = profile.blank

    def parse(cell: str) -> Any:
        try:
            return typed(cell)
        except ValueError:
            text = cell.strip()
            if not text or text.upper() in blank:
                return None
            raise

    if check is None:
        return parse
    return lambda cell: check(parse(cell))


def _text_parser(field: str, profile: Profile, key: bool) -> Parser:
    blank = profile.blank | profile.blank_keys if key else profile.blank
    blank_lengths = frozenset(map(len, blank))
    limit, check = _schema_limits(field)

    tidy = normalise_reference if field == "incident.reference" else str.strip

    def parse(cell: str) -> Any:
        text = tidy(cell)
        if not text or (len(text) in blank_lengths and text.upper() in blank):
            return None
        if len(text) > limit:
            raise ValueError(f"is {len(text)} characters long; at most {limit} fit")
        return text if check is None else check(text)

    return parse


def _code_parser(field: str, profile: Profile) -> Parser:
    table = profile.values[field]
    shown = ", ".join(profile.value_names[field])
    blank = profile.blank
    prefix = profile.ethnicity_prefix_length if FIELD_KINDS[field] == "ethnicity" else 0
    lookup = values.lookup

    def parse(cell: str) -> Any:
        found = lookup(table, cell)
        if found is not None:
            return found
        text = cell.strip()
        if not text or text.upper() in blank:
            return None
        if prefix and len(text) > prefix:
            found = lookup(table, text[prefix:])
            if found is not None:
                return found
        raise ValueError(f"'{text}' is not a known value; expected one of: {shown}")

    return parse


def _postcode_parser(field: str, profile: Profile) -> Parser:
    blank = profile.blank | profile.blank_postcodes
    patterns = profile.postcode_patterns
    _, check = _schema_limits(field)

    def parse(cell: str) -> Any:
        text = " ".join(cell.split()).upper()
        if not text or text in blank or any(p.fullmatch(text) for p in patterns):
            return None
        # The form the record schema stores (dn311hu is DN31 1HU), so a converted record is
        # what loading it would give.
        postcode = normalise_postcode(text)
        return postcode if check is None else check(postcode)

    return parse


def _schema_field(field: str) -> fields.Field[Any] | None:
    """The record schema's field for an input field (``child.upn`` → ``children[].upn``)."""
    first, *rest = field.split(".")
    node: fields.Field[Any] = _RECORD_SCHEMA.fields["children" if first == "child" else first]
    for part in rest:
        if isinstance(node, fields.List):
            node = node.inner
        if not isinstance(node, fields.Nested):
            return None
        nested = node.schema.fields.get(part)
        if nested is None:
            return None
        node = nested
    return node.inner if isinstance(node, fields.List) else node


def _schema_limits(field: str) -> tuple[int, Parser | None]:
    """The longest text the schema takes for ``field``, and a check for any other format rule."""
    schema_field = _schema_field(field)
    validators = list(schema_field.validators) if schema_field is not None else []
    lengths = [v.max for v in validators if isinstance(v, validate.Length) and v.max is not None]
    limit = min(lengths, default=20_000)
    needs_check = any(not isinstance(v, validate.Length) for v in validators)
    return limit, (_schema_check(field) if needs_check else None)


def _schema_check(field: str) -> Parser | None:
    """Runs the schema field's own validators on a parsed value; their message becomes the
    error. (Repeated cells are not checked again: the column remembers them.)"""
    schema_field = _schema_field(field)
    if schema_field is None or not schema_field.validators:
        return None
    validators = tuple(schema_field.validators)

    def check(value: Any) -> Any:
        if value is None:
            return value
        try:
            for validator in validators:
                validator(value)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
            raise ValueError(" ".join(map(str, messages))) from None
        return value

    return check
