"""What a conversion yields: converted records, rejected rows with their problems, a summary.

Records are in the *loaded* shape of :class:`schemas.incident.IncidentRecordSchema` (complete
dicts, dates as ``datetime.date``); :func:`record_to_json` writes the schema's dump shape (ISO
dates) without paying for a marshmallow dump per record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row of the export was not converted.

    ``row`` counts the header as row 1, so the first data row is row 2 (the number a spreadsheet
    shows); ``field`` is the column as the export names it; ``value`` the cell as written.
    ``field`` and ``value`` are ``None`` for a problem of the whole row (e.g. a ragged row).
    """

    row: int
    field: str | None
    value: str | None
    message: str
    incident: str | None = None
    """The incident reference the row belongs to, when known."""

    def as_dict(self) -> dict[str, Any]:
        """The problem as one line of the NDJSON error report."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Converted:
    """One incident record, built from the export rows ``rows``."""

    record: dict[str, Any]
    rows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rejected:
    """Rows that were not converted; an incident is rejected whole (never half an incident)."""

    incident: str | None
    rows: tuple[int, ...]
    problems: tuple[RowProblem, ...]


@dataclass(slots=True)
class Summary:
    """Counts for the end of a conversion (kept up to date while it streams)."""

    system: str
    file: str
    encoding: str | None
    rows_read: int = 0
    """Data rows read, blank rows not counted."""
    incidents_converted: int = 0
    incidents_rejected: int = 0
    rows_rejected: int = 0

    @property
    def complete(self) -> bool:
        """Whether every row converted (``convert`` exits 0)."""
        return self.rows_rejected == 0

    def describe(self) -> str:
        """One line for people, e.g. at the end of ``csins-adapter convert``."""
        line = (
            f"{self.file} ({self.system}): {self.rows_read} rows read, "
            f"{self.incidents_converted} incidents converted"
        )
        if self.rows_rejected:
            line += (
                f", {self.rows_rejected} rows rejected "
                f"({self.incidents_rejected} incidents not converted)"
            )
        return line


def record_to_json(record: dict[str, Any]) -> str:
    """One NDJSON line (no newline) in the record's dump shape: ISO dates, UTF-8 text.

    orjson writes ``datetime.date`` as ``YYYY-MM-DD`` itself and is ten times faster than the
    standard library here, which the conversion's throughput target needs.
    """
    return orjson.dumps(record).decode()


def problem_to_json(problem: RowProblem) -> str:
    """One NDJSON line (no newline) of the row-level error report."""
    return orjson.dumps(problem.as_dict()).decode()
