"""Importer profiles: what each case system's export calls things, read from YAML (DESIGN.md §3.1).

A profile names, for each *input field* (``incident.nature``, ``child.date_of_birth``, ...), the
headers that may carry it, how coded values and descriptions map to the record's codes, which
values mean "blank" (sentinels), and the header signature that recognises the system. The shipped
profiles live in ``config/profiles/``; an LA's own ``profiles/<system>.yaml`` in
``CSINS_CONFIG_DIR`` is laid over the shipped one: its aliases are tried first, its value-map
entries are added (or replace shipped ones), its sentinels are added. So an LA adds a header alias
or a description without code. Each file is loaded and validated once; a mistake raises
:class:`config.settings.SettingsError` naming the file and the bad key.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from adapter.errors import ExportError, UnrecognisedExport
from adapter.importers.values import compile_map
from config.settings import DEFAULT_CONFIG_DIR, Settings, SettingsError
from schemas import codes

SYSTEMS = ("liquidlogic", "mosaic")
"""The case systems with a built-in profile (the third source system, ``json``, needs none)."""

FIELD_KINDS: Mapping[str, str] = {
    "local_authority.code": "text",
    "local_authority.name": "text",
    "notifier.name": "text",
    "notifier.role": "text",
    "notifier.email": "text",
    "notifier.phone": "text",
    "incident.reference": "text",
    "incident.nature": "code",
    "incident.other_rationale": "text",
    "incident.abuse_or_neglect": "code",
    "incident.date": "date_time",
    "incident.time": "time",
    "incident.became_aware_on": "date",
    "incident.location.description": "text",
    "incident.location.postcode": "postcode",
    "incident.location.in_la_area": "flag",
    "incident.location.outside_england_normally_resident": "flag",
    "incident.setting": "code",
    "incident.suicide": "flag",
    "incident.historical_harm": "flag",
    "incident.wider_risk_to_other_children": "flag",
    "incident.summary": "text",
    "child.local_id": "key",
    "child.upn": "text",
    "child.nhs_number": "text",
    "child.forenames": "text",
    "child.surname": "text",
    "child.date_of_birth": "date",
    "child.date_of_birth_estimated": "flag",
    "child.age_years": "whole_number",
    "child.sex": "code",
    "child.ethnicity": "ethnicity",
    "child.disability": "code",
    "child.outcome": "code",
    "child.date_of_death": "date",
    "child.harm_description": "text",
    "child.known_to_childrens_social_care": "flag",
    "child.child_protection_plan.start_date": "date",
    "child.child_protection_plan.end_date": "date",
    "child.child_protection_plan.category": "code",
    "child.child_in_need_plan.start_date": "date",
    "child.child_in_need_plan.end_date": "date",
    "child.looked_after.start_date": "date",
    "child.looked_after.end_date": "date",
    "child.placement_type": "text",
    "child.care_leaver": "code",
}
"""Every input field a profile may map, and how its cells are read. ``child.*`` fields vary per
child (row); the rest belong to the incident and must agree across its rows."""

CODE_LISTS: Mapping[str, tuple[Any, ...]] = {
    "incident.nature": codes.NATURES,
    "incident.abuse_or_neglect": codes.ABUSE_OR_NEGLECT,
    "incident.setting": codes.SETTINGS,
    "child.sex": codes.SEXES,
    "child.ethnicity": codes.ETHNICITIES,
    "child.disability": codes.DISABILITY,
    "child.outcome": codes.OUTCOMES,
    "child.child_protection_plan.category": codes.CP_CATEGORIES,
    "child.care_leaver": (True, False),
}
"""The values a value map may produce, per field; the codes themselves are always accepted."""

REQUIRED_VALUES = (
    "local_authority.code",
    "incident.reference",
    "incident.nature",
    "incident.abuse_or_neglect",
    "incident.date",
    "incident.became_aware_on",
    "child.outcome",
)
"""Fields every row must fill in (DESIGN.md §3 "Required")."""

REQUIRED_COLUMNS = (*REQUIRED_VALUES, "child.local_id")
"""Fields whose column the export must have: without them no row could convert, and without
the person id every child would silently lose its identity."""

_TOP_KEYS = {
    "system",
    "signature",
    "columns",
    "values",
    "sentinels",
    "ethnicity_prefix_length",
    "birth_date_after_incident",
}
_SENTINEL_KEYS = {"blank", "keys", "postcodes", "postcode_patterns"}
_BIRTH_AFTER_INCIDENT = ("keep", "unborn", "error")
"""What a birth date after the incident may mean (:attr:`Profile.birth_date_after_incident`)."""


def header_key(header: str) -> str:
    """How headers are matched: case and surrounding or repeated spaces ignored, BOM dropped."""
    return " ".join(header.replace("\ufeff", "").split()).upper()


@dataclass(frozen=True)
class Profile:
    """One system's profile, validated and compiled for fast lookups."""

    system: str
    source: str
    """The file(s) it was read from, for messages."""
    signature: tuple[str, ...]
    """Header names (or ``*`` patterns) whose presence recognises the system."""
    columns: Mapping[str, tuple[str, ...]]
    """Input field → header aliases (as :func:`header_key`), tried in order."""
    values: Mapping[str, Mapping[str, Any]]
    """Input field → lookup table of :func:`adapter.importers.values.compile_map`."""
    value_names: Mapping[str, tuple[str, ...]]
    """Input field → the values as the profile writes them, for error messages."""
    blank: frozenset[str]
    """Upper-cased values read as blank in any column (``NOT FOUND``, ``UNKNOWN``)."""
    blank_keys: frozenset[str]
    """Values read as blank in key columns (``-1``)."""
    blank_postcodes: frozenset[str]
    postcode_patterns: tuple[re.Pattern[str], ...]
    ethnicity_prefix_length: int
    """Characters of local prefix an ethnicity code may carry (Mosaic ``A1WBRI``)."""
    birth_date_after_incident: str
    """What a birth date after the incident date means: ``keep`` (the default, as a JSON record
    may say: a child harmed before birth and born since keeps the date, not unborn), ``unborn``
    (Mosaic, DESIGN.md §3.1: the date is an expected one, so the child was unborn) or ``error``
    (an LA whose exports never carry one may refuse it)."""

    def missing_signature(self, headers: Iterable[str]) -> list[str]:
        """The signature entries ``headers`` (as :func:`header_key`) lack; empty when it matches."""
        present = list(headers)
        return [
            entry
            for entry in self.signature
            if not any(fnmatch.fnmatchcase(header, entry) for header in present)
        ]

    def missing_columns(self, headers: Iterable[str]) -> list[str]:
        """The required columns (the first alias of each) that ``headers`` lack."""
        present = set(headers)
        return [
            self.columns[field][0]
            for field in REQUIRED_COLUMNS
            if not present.intersection(self.columns[field])
        ]


def load_profile(system: str, settings: Settings) -> Profile:
    """The profile for ``system``: shipped, with the LA's own file laid over it if it has one."""
    if system not in SYSTEMS:
        raise SettingsError(f"system: expected one of {', '.join(SYSTEMS)}, got {system!r}")
    shipped = DEFAULT_CONFIG_DIR / "profiles" / f"{system}.yaml"
    own = settings.profile_path(system)
    own_stamp = _stamp(own) if own != shipped else None
    return _load(system, str(shipped), _stamp(shipped), str(own) if own_stamp else None, own_stamp)


def choose_profile(headers: Iterable[str], system: str, settings: Settings) -> Profile:
    """The profile for an export with ``headers``: forced by ``system``, else detected (§3.1).

    Detection needs exactly one profile's signature to match; a file matching neither raises
    :class:`UnrecognisedExport` naming, per system, the columns it lacks.
    """
    keys = {header_key(header) for header in headers}
    if system != "auto":
        return load_profile(system, settings)
    profiles = [load_profile(name, settings) for name in SYSTEMS]
    matched = [profile for profile in profiles if not profile.missing_signature(keys)]
    if not matched:
        lacking = {
            p.system: [*p.missing_signature(keys), *p.missing_columns(keys)] for p in profiles
        }
        raise UnrecognisedExport(
            {name: list(dict.fromkeys(cols)) for name, cols in lacking.items()}
        )
    if len(matched) > 1:
        raise ExportError(
            "the headers match both the Liquidlogic and the Mosaic signature: "
            "choose one with --system"
        )
    return matched[0]


def _stamp(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@functools.lru_cache(maxsize=8)
def _load(
    system: str, shipped: str, _shipped_stamp: int, own: str | None, _own_stamp: int | None
) -> Profile:
    """Read, merge and compile once per file version (the stamps are the files' mtimes)."""
    raw = _read(Path(shipped))
    source = shipped
    if own is not None:
        raw = _merge(raw, _read(Path(own)), own)
        source = f"{own} over {shipped}"
    return _compile(system, raw, source)


def _read(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the profile ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: expected a mapping at the top level")
    unknown = sorted(set(map(str, loaded)) - _TOP_KEYS)
    if unknown:
        raise SettingsError(
            f"{path}: unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(_TOP_KEYS))}"
        )
    for key in ("columns", "values", "sentinels"):
        if not isinstance(loaded.get(key) or {}, dict):
            raise SettingsError(f"{path}: {key}: expected a mapping")
    return {**loaded, "_path": str(path)}


def _merge(shipped: dict[str, Any], own: dict[str, Any], where: str) -> dict[str, Any]:
    """The LA's file over the shipped one: its aliases first, its value entries win."""
    merged = {
        **shipped,
        **{k: v for k, v in own.items() if k not in ("columns", "values", "sentinels")},
    }
    columns = dict(shipped.get("columns") or {})
    for name, aliases in (own.get("columns") or {}).items():
        columns[name] = [
            *_string_list(f"{where}: columns.{name}", aliases),
            *_string_list("columns", columns.get(name)),
        ]
    values = {name: dict(table or {}) for name, table in (shipped.get("values") or {}).items()}
    for name, table in (own.get("values") or {}).items():
        if not isinstance(table, dict):
            raise SettingsError(f"{where}: values.{name}: expected a mapping of value: code")
        values.setdefault(name, {}).update(table)
    sentinels = {
        key: list(entries or []) for key, entries in (shipped.get("sentinels") or {}).items()
    }
    for key, entries in (own.get("sentinels") or {}).items():
        sentinels.setdefault(key, []).extend(_string_list(f"{where}: sentinels.{key}", entries))
    return {**merged, "columns": columns, "values": values, "sentinels": sentinels}


def _string_list(where: str, value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in items):
        raise SettingsError(f"{where}: expected a list of strings (quote Y, N, yes, no, true)")
    return [str(item) for item in items]


def _compile(system: str, raw: Mapping[str, Any], source: str) -> Profile:
    where = raw.get("_path", source)
    if raw.get("system", system) != system:
        raise SettingsError(f"{where}: system: expected {system!r}, got {raw.get('system')!r}")
    columns = _compile_columns(where, raw.get("columns") or {})
    values, value_names = _compile_values(where, raw.get("values") or {})
    entries = _compile_sentinels(where, raw.get("sentinels") or {})
    try:
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in entries["postcode_patterns"])
    except re.error as exc:
        raise SettingsError(f"{where}: sentinels.postcode_patterns: {exc}") from None
    prefix = raw.get("ethnicity_prefix_length", 0)
    if isinstance(prefix, bool) or not isinstance(prefix, int) or not 0 <= prefix <= 4:
        raise SettingsError(f"{where}: ethnicity_prefix_length: expected 0 to 4, got {prefix!r}")
    birth = raw.get("birth_date_after_incident", "keep")
    if birth not in _BIRTH_AFTER_INCIDENT:
        raise SettingsError(
            f"{where}: birth_date_after_incident: expected one of "
            f"{', '.join(_BIRTH_AFTER_INCIDENT)}, got {birth!r}"
        )
    signature = tuple(
        header_key(s) for s in _string_list(f"{where}: signature", raw.get("signature"))
    )
    if not signature:
        raise SettingsError(f"{where}: signature: expected at least one header")
    return Profile(
        system=system,
        source=source,
        signature=signature,
        columns=columns,
        values=values,
        value_names=value_names,
        blank=frozenset(entry.upper() for entry in entries["blank"]),
        blank_keys=frozenset(entries["keys"]),
        blank_postcodes=frozenset(" ".join(e.split()).upper() for e in entries["postcodes"]),
        postcode_patterns=patterns,
        ethnicity_prefix_length=prefix,
        birth_date_after_incident=birth,
    )


def _compile_columns(where: str, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each input field's header aliases, as header keys; every required field given one."""
    columns: dict[str, tuple[str, ...]] = {}
    for name, aliases in raw.items():
        if name not in FIELD_KINDS:
            raise SettingsError(
                f"{where}: columns.{name}: not an input field; expected one of "
                f"{', '.join(FIELD_KINDS)}"
            )
        columns[name] = tuple(
            dict.fromkeys(
                header_key(alias) for alias in _string_list(f"{where}: columns.{name}", aliases)
            )
        )
    lacking = [name for name in REQUIRED_COLUMNS if not columns.get(name)]
    if lacking:
        raise SettingsError(f"{where}: columns: no header given for {', '.join(lacking)}")
    return columns


def _compile_sentinels(where: str, raw: Mapping[str, Any]) -> dict[str, list[str]]:
    """The values meaning "blank", under each known key (every key present, perhaps empty)."""
    unknown = sorted(set(raw) - _SENTINEL_KEYS)
    if unknown:
        raise SettingsError(
            f"{where}: sentinels: unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(_SENTINEL_KEYS))}"
        )
    return {key: _string_list(f"{where}: sentinels.{key}", raw.get(key)) for key in _SENTINEL_KEYS}


def _compile_values(
    where: str, raw: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, ...]]]:
    """Value maps, each with the field's own codes added, every target checked (§3 code lists)."""
    values: dict[str, dict[str, Any]] = {}
    names: dict[str, tuple[str, ...]] = {}
    for name in raw:
        if name not in CODE_LISTS:
            raise SettingsError(
                f"{where}: values.{name}: no value map for this field; maps "
                f"exist for {', '.join(CODE_LISTS)}"
            )
    for name, allowed in CODE_LISTS.items():
        table = raw.get(name) or {}
        if not isinstance(table, dict):
            raise SettingsError(f"{where}: values.{name}: expected a mapping of value: code")
        pairs: list[tuple[str, Any]] = []
        for key, target in table.items():
            if isinstance(key, bool) or not isinstance(key, str | int):
                raise SettingsError(f"{where}: values.{name}.{key}: quote the value, e.g. 'Y'")
            if target not in allowed or isinstance(target, bool) != isinstance(allowed[0], bool):
                raise SettingsError(
                    f"{where}: values.{name}.{key}: {target!r} is not allowed; expected one of "
                    f"{', '.join(map(str, allowed))} (quote yes and no)"
                )
            pairs.append((str(key), target))
        own_codes = [] if isinstance(allowed[0], bool) else [(code, code) for code in allowed]
        values[name] = compile_map([*own_codes, *pairs])
        names[name] = tuple(dict.fromkeys(key for key, _ in pairs)) or tuple(map(str, allowed))
    return values, names
