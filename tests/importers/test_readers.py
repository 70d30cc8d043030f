"""Reading exports (DESIGN.md §3.1): encodings, XLSX, limits, and files that cannot be read."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.errors import ExportError, ExportTooLarge
from adapter.importers import convert_export
from config.settings import Settings
from tests.conftest import SAMPLES
from tests.importers.conftest import (
    convert,
    headers,
    make_row,
    sample_rows,
    write_csv,
    write_xlsx,
)

SAMPLE = SAMPLES / "liquidlogic_incidents.csv"


def _accented(system: str = "mosaic") -> dict[str, str]:
    return make_row(system, FIRST_NAMES="Zoë", INCIDENT_SETTING="Residential children\u2019s home")


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252")],
)
def test_each_encoding_is_read(tmp_path: Path, encoding: str, reported: str) -> None:
    path = write_csv(tmp_path / "export.csv", [_accented()], encoding=encoding)
    outcome = convert(path)
    (record,) = outcome.records
    assert record["children"][0]["forenames"] == "Zoë"
    assert record["incident"]["setting"] == "residential_childrens_home"
    assert outcome.summary.encoding == reported


def test_the_encoding_is_decided_for_the_whole_file_not_per_row(tmp_path: Path) -> None:
    """UTF-8 accents early, one Windows-1252 byte late: the file is Windows-1252 throughout."""
    rows = [make_row("mosaic", FIRST_NAMES="Zoë")] + [
        make_row("mosaic", INCIDENT_REFERENCE=f"MOS-{n}", PERSON_ID=str(n)) for n in range(500)
    ]
    path = write_csv(tmp_path / "mixed.csv", rows)
    path.write_bytes(path.read_bytes().replace(b"MOS-499", b"MOS-\xa3499"))
    outcome = convert(path)
    assert outcome.summary.encoding == "cp1252"
    assert outcome.records[0]["children"][0]["forenames"] == "Zo\u00c3\u00ab"
    assert outcome.records[-1]["incident"]["reference"] == "MOS-£499"


def test_a_byte_order_mark_on_a_windows_1252_file_is_not_part_of_the_header(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "export.csv", [_accented()], encoding="cp1252")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(convert(path).records) == 1


@given(
    st.lists(
        st.sampled_from(["", "\ufeff", "\ufeff\ufeff", "  ", ",,", "\ufeff,"]),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["utf-8", "cp1252"]),
)
def test_blank_lines_and_lone_byte_order_marks_before_the_header_are_skipped(
    before: list[str], encoding: str
) -> None:
    """Some tools write a byte-order mark (or two) on a line of its own: the header is the first
    line holding anything else, and rows keep the numbers a text editor shows."""
    text = "\n".join([*before, ",".join(headers("mosaic")), ",".join(_accented().values())])
    # Windows-1252 files carry a UTF-8 mark as the bytes EF BB BF, so the mark is encoded alone.
    content = b"\n".join(
        line.replace("\ufeff", "\x00").encode(encoding).replace(b"\x00", codecs.BOM_UTF8)
        for line in text.split("\n")
    )
    outcome = convert(io.BytesIO(content), "export.csv")
    (record,) = outcome.records
    assert record["source"]["row"] == len(before) + 2
    assert record["children"][0]["forenames"] == "Zoë"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "is empty (0 bytes)"),
        ("LA_CODE,PERSON_ID\n".encode("utf-16"), "UTF-16"),
        (b"LA_CODE,PERSON_ID\n812,\x00\x01\x02\n", "binary data (a NUL byte at offset 22)"),
        (b"LA_CODE,PERSON_ID\n812,\x81\x8d\n", "not text in UTF-8 or Windows-1252: byte 0x81"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel 97-2003 (.xls)"),
        (b"\n\n  \n", "no header row"),
        (b"\xef\xbb\xbf\xef\xbb\xbf\n", "no header row: every line is blank"),
        (b"\xef\xbb\xbf\n\xef\xbb\xbf,,\r\n\xa0\n", "no header row: every line is blank"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=says.replace("(", r"\(").replace(")", r"\)")):
        convert(path)


def test_a_missing_file_is_an_export_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"cannot open nothere\.csv"):
        convert(tmp_path / "nothere.csv")


def test_a_header_without_rows_converts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(",".join(headers("liquidlogic")) + "\n", encoding="utf-8")
    outcome = convert(path)
    assert (outcome.results, outcome.summary.rows_read) == ([], 0)


def test_blank_rows_are_skipped_but_keep_their_numbers(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    blank_cells = "," * (len(headers("liquidlogic")) - 1)
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join([lines[0], "", lines[1], blank_cells, lines[4]]) + "\n")
    outcome = convert(path)
    assert outcome.summary.rows_read == 2
    assert [r["source"]["row"] for r in outcome.records] == [3, 5]


def test_ragged_rows_are_reported_and_the_others_still_convert(tmp_path: Path) -> None:
    rows = [list(row.values()) for row in sample_rows("liquidlogic")]
    rows[1].append("extra")  # NEL-2026-002, first child
    del rows[3][-3:]  # NEL-2026-003
    path = tmp_path / "ragged.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([headers("liquidlogic"), *rows])
    outcome = convert(path)
    assert [r["incident"]["reference"] for r in outcome.records] == ["NEL-2026-001"]
    assert outcome.problem_at(3)[0].message.startswith("has 38 cells but the header has 37")
    assert outcome.problem_at(3)[0].incident == "NEL-2026-002"
    # Row 4 is the other child of NEL-2026-002: the incident is rejected whole.
    assert outcome.problem_at(4)[0].message.startswith("not converted: incident NEL-2026-002")
    assert outcome.problem_at(5)[0].message.startswith("has 34 cells but the header has 37")
    assert outcome.summary.rows_rejected == 3


def test_trailing_commas_are_not_ragged(tmp_path: Path) -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "trailing.csv"
    path.write_text("\n".join([lines[0] + ",", *(line + ",," for line in lines[1:])]) + "\n")
    assert len(convert(path).records) == 3


def test_a_quoted_cell_over_several_lines_is_one_row(tmp_path: Path) -> None:
    rows = sample_rows("liquidlogic")
    rows[0]["CASE_OUTLINE"] = 'Found at home.\nSecond line, "quoted".'
    rows[1]["INCIDENT_DTTM"] = "31/02/2026"
    outcome = convert(write_csv(tmp_path / "multiline.csv", rows))
    assert outcome.by_reference()["NEL-2026-001"]["incident"]["summary"].endswith('"quoted".')
    assert outcome.problem_at(3)[0].field == "INCIDENT_DTTM"


def _xlsx_cell(column: str, value: str) -> Any:
    """Cells as a spreadsheet holds them: real dates, numbers and booleans."""
    if value and (column.endswith(("_DTTM", "_DATE"))):
        return dt.datetime.fromisoformat(value.replace(".000", ""))
    if value.isdigit() and column != "NHS_NUMBER":
        return int(value)
    if column == "NHS_NUMBER" and value:
        return float(value)
    if value in ("Y", "N"):
        return value == "Y"
    return value


def test_xlsx_with_date_cells_numbers_and_booleans(tmp_path: Path) -> None:
    rows = sample_rows("liquidlogic")
    path = write_xlsx(tmp_path / "export.xlsx", rows, cell=_xlsx_cell)
    from_xlsx = convert(path)
    from_csv = convert(SAMPLE)
    assert from_xlsx.summary.encoding is None
    for record in from_xlsx.records:
        record["source"]["file"] = "liquidlogic_incidents.csv"
    assert from_xlsx.records == from_csv.records


def test_xlsx_with_text_dates_and_stray_header_spaces(tmp_path: Path) -> None:
    rows = sample_rows("mosaic")
    columns = [f"  {column.lower()} " for column in rows[0]]
    renamed = [dict(zip(columns, row.values(), strict=True)) for row in rows]
    path = write_xlsx(tmp_path / "export.xlsx", renamed, columns)
    outcome = convert(path)
    assert [r["incident"]["date"] for r in outcome.records] == [
        dt.date(2026, 11, 5),
        dt.date(2026, 11, 12),
    ]


def test_xlsx_rows_shorter_than_the_header_are_padded(tmp_path: Path) -> None:
    row = make_row("mosaic")
    columns = [*row, "EXTRA_NOTES"]
    path = write_xlsx(tmp_path / "export.xlsx", [row], columns)
    assert len(convert(path).records) == 1


def _broken_sheet(good: bytes) -> bytes:
    """The workbook with its first sheet's XML cut off after the header row."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="2"') + 20]
            target.writestr(item, data)
    return buffer.getvalue()


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda good: good[: len(good) // 2],
        lambda good: b"PK\x03\x04" + b"\x00garbage" * 50,
        lambda good: _zip_without_workbook(),
        lambda good: _broken_sheet(good),
    ],
)
def test_a_corrupt_xlsx_is_an_export_error(tmp_path: Path, corrupt: Any) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", sample_rows("mosaic")).read_bytes()
    path = tmp_path / "corrupt.xlsx"
    path.write_bytes(corrupt(good))
    with pytest.raises(ExportError, match=r"corrupt\.xlsx is not a readable XLSX workbook"):
        convert(path)


def test_too_large_by_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", sample_rows("liquidlogic"))
    with pytest.raises(ExportTooLarge, match="the limit is 1,000 bytes"):
        convert(path, settings=Settings(max_export_bytes=1000))


def test_a_sparse_200_mb_file_is_refused_by_its_size(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(ExportTooLarge, match="is 209,715,200 bytes; the limit is 104,857,600"):
        convert(path)


def test_too_many_rows_is_refused_before_anything_converts(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "rows.csv", sample_rows("liquidlogic"))
    with pytest.raises(ExportTooLarge, match="more than 3 data rows"):
        convert_export(path, settings=Settings(max_export_rows=3))
    assert len(convert(path, settings=Settings(max_export_rows=4)).records) == 3


class _Upload(io.RawIOBase):
    """A stream that cannot seek, like some upload bodies."""

    def __init__(self, content: bytes) -> None:
        self._source = io.BytesIO(content)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_streams_are_read_whether_or_not_they_seek() -> None:
    content = SAMPLE.read_bytes()
    seekable = convert(io.BytesIO(content), "upload.csv")
    spooled = convert(_Upload(content), "upload.csv")
    assert seekable.records == spooled.records
    assert {r["source"]["file"] for r in seekable.records} == {"upload.csv"}
    with pytest.raises(ExportTooLarge):
        convert(_Upload(content), "upload.csv", settings=Settings(max_export_bytes=100))
