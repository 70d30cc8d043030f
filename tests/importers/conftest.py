"""Factories for importer tests: valid export rows per system, files written from them, and a
conversion run that collects what it yields. XLSX fixtures are generated here, never committed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapter.importers import Converted, RowProblem, Summary, convert_export, record_to_json
from config.settings import Settings
from schemas.incident import IncidentRecordSchema
from tests.conftest import SAMPLES

TODAY = dt.date(2026, 11, 27)
"""The day the tests convert on (Europe/London); the samples' incidents are just before it."""


def sample_rows(system: str) -> list[dict[str, str]]:
    with (SAMPLES / f"{system}_incidents.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def headers(system: str) -> list[str]:
    return list(sample_rows(system)[0])


def make_row(system: str, **overrides: str) -> dict[str, str]:
    """A valid row (the sample's first, a death by neglect of one identified child)."""
    row = dict(sample_rows(system)[0])
    unknown = set(overrides) - set(row)
    assert not unknown, f"not a {system} column: {unknown}"
    return {**row, **overrides}


def write_csv(
    path: Path,
    rows: Iterable[Mapping[str, str]],
    columns: list[str] | None = None,
    *,
    encoding: str = "utf-8",
) -> Path:
    """``rows`` as a CSV export (``utf-8-sig`` writes a byte-order mark)."""
    rows = list(rows)
    columns = columns or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows([row.get(column, "") for column in columns] for row in rows)
    return path


P = TypeVar("P", Path, io.BytesIO)


def write_xlsx(
    path: P,
    rows: Iterable[Mapping[str, Any]],
    columns: list[str] | None = None,
    cell: Callable[[str, Any], Any] = lambda column, value: value,
) -> P:
    """``rows`` as the first sheet of a workbook (a file, or a buffer); ``cell`` turns a value
    into a typed cell."""
    from openpyxl import Workbook

    rows = list(rows)
    columns = columns or list(rows[0])
    book = Workbook()
    sheet = book.active
    sheet.title = "Incidents"
    sheet.append(columns)
    for row in rows:
        sheet.append([cell(column, row.get(column, "")) for column in columns])
    book.create_sheet("Notes").append(["ignored: only the first sheet is read"])
    book.save(path)
    return path


@dataclass
class Outcome:
    """Everything one conversion yielded."""

    records: list[dict[str, Any]]
    problems: list[RowProblem]
    summary: Summary
    results: list[Any]

    def by_reference(self) -> dict[str, dict[str, Any]]:
        return {record["incident"]["reference"]: record for record in self.records}

    def problem_at(self, row: int) -> list[RowProblem]:
        return [problem for problem in self.problems if problem.row == row]


def convert(source: Any, filename: str | None = None, **options: Any) -> Outcome:
    """Convert ``source`` on :data:`TODAY`, checking every record loads unchanged (§3)."""
    options.setdefault("today", TODAY)
    records: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    results: list[Any] = []
    with convert_export(source, filename, **options) as conversion:
        for result in conversion:
            results.append(result)
            if isinstance(result, Converted):
                assert_loads(result.record)
                records.append(result.record)
            else:
                problems += result.problems
    return Outcome(records, problems, conversion.summary, results)


def assert_loads(record: dict[str, Any]) -> None:
    """The record's JSON passes ``IncidentRecordSchema(today=TODAY).load`` and loads back to the
    very same record: every key present, nothing lost or changed."""
    loaded = IncidentRecordSchema(today=TODAY).load(json.loads(record_to_json(record)))
    assert loaded == record


@pytest.fixture
def small_limits() -> Settings:
    return Settings(max_export_bytes=20_000, max_export_rows=3)


def rezip(workbook: bytes, parts: Mapping[str, bytes]) -> bytes:
    """``workbook`` with ``parts`` (name → content) replaced or added, deflated at level 9."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename not in parts:
                target.writestr(item.filename, source.read(item))
        for name, content in parts.items():
            target.writestr(name, content)
    return buffer.getvalue()


def xlsx_with_long_cell(text: str) -> bytes:
    """The Liquidlogic sample as a workbook whose first CASE_OUTLINE cell (L2) holds ``text``
    as an inline string: the shape of the decompression bomb a reviewer found."""
    good = write_xlsx(io.BytesIO(), sample_rows("liquidlogic")).getvalue()
    with zipfile.ZipFile(io.BytesIO(good)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml").decode()
    start = sheet.index('<c r="L2"')
    end = sheet.index("</c>", start) + len("</c>")
    cell = f'<c r="L2" t="inlineStr"><is><t>{text}</t></is></c>'
    return rezip(good, {"xl/worksheets/sheet1.xml": (sheet[:start] + cell + sheet[end:]).encode()})


def zip_bomb(mebibytes: int = 2) -> bytes:
    """A workbook whose one cell inflates to ``mebibytes`` MiB of ``A`` (about 1 000 to 1)."""
    return xlsx_with_long_cell("A" * (mebibytes * 1024 * 1024))


def with_shared_strings(
    workbook: bytes, count: int, length: int = 8, items: Iterable[bytes] = ()
) -> bytes:
    """``workbook`` (written by openpyxl, whose cells are inline strings) with a shared-string
    table of ``count`` distinct strings of ``length`` characters, unused by any cell: what a
    workbook of many distinct values holds, and what openpyxl reads whole before the first row
    (issue 19 item 2). ``items`` (``<si>`` elements) come first, at indexes 0, 1, ..."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        types = archive.read("[Content_Types].xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    width = max(length, len(str(count)))
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    table = b"".join(
        [
            b'<sst xmlns="%s" count="%d" uniqueCount="%d">' % (main, count, count),
            *items,
            *(b"<si><t>%0*d</t></si>" % (width, n) for n in range(count)),
            b"</sst>",
        ]
    )
    kind = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    types = types.replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % kind
    )
    relation = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    rels = rels.replace(
        b"</Relationships>",
        b'<Relationship Id="rIdStrings" Type="%s" Target="sharedStrings.xml"/></Relationships>'
        % relation,
    )
    return rezip(
        workbook,
        {
            "xl/sharedStrings.xml": table,
            "[Content_Types].xml": types,
            "xl/_rels/workbook.xml.rels": rels,
        },
    )
