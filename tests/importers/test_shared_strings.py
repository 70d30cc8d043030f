"""An XLSX export's shared strings are read within a budget (issue 19 item 2).

openpyxl reads a workbook's whole shared-string table before its first row, keeping every parsed
element: 22 MB of short strings (a 2.4 MB upload) took +159 MB and 12 s. A table over the
configured budget (bytes of XML, number of strings) is refused, in memory bounded by the budget.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from openpyxl import load_workbook

from adapter.errors import ExportTooLarge
from adapter.importers.readers import open_export
from config.settings import Settings, load_settings
from tests.importers.conftest import convert, make_row, rezip, with_shared_strings, write_xlsx

MAX_BYTES = 100 * 1024 * 1024


def _workbook(count: int, items: tuple[bytes, ...] = ()) -> bytes:
    base = write_xlsx(io.BytesIO(), [make_row("liquidlogic")]).getvalue()
    return with_shared_strings(base, count, items=items)


def _point_cell_at(workbook: bytes, cell: str, index: int) -> bytes:
    """``workbook`` with sheet cell ``cell`` (an inline string) made shared string ``index``."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    start = sheet.index(f'<c r="{cell}"')
    end = sheet.index("</c>", start) + len("</c>")
    shared = f'<c r="{cell}" t="s"><v>{index}</v></c>'
    return rezip(
        workbook, {"xl/worksheets/sheet1.xml": (sheet[:start] + shared + sheet[end:]).encode()}
    )


def test_too_many_shared_strings_are_refused_naming_the_limit() -> None:
    data = _workbook(5_000)
    with pytest.raises(
        ExportTooLarge, match=r"more than 1,000 distinct text values.*CSINS_MAX_XLSX_STRINGS"
    ):
        open_export(io.BytesIO(data), "many.xlsx", MAX_BYTES, max_shared_strings=1_000)


def _peak(data: bytes, **budget: int) -> tuple[int, str]:
    """Python's peak allocation (bytes) opening ``data``, and what happened."""
    tracemalloc.start()
    try:
        try:
            open_export(io.BytesIO(data), "big.xlsx", MAX_BYTES, **budget).close()
            outcome = "read"
        except ExportTooLarge as error:
            outcome = str(error)
        return tracemalloc.get_traced_memory()[1], outcome
    finally:
        tracemalloc.stop()


def test_memory_is_bounded_by_the_budget_not_the_table() -> None:
    """400 000 strings (about 9 MB of XML): refused over a budget of 1 000 strings, or of 100 kB,
    having held a small part of what reading them all takes (openpyxl's own reader held about
    six times more again)."""
    data = _workbook(400_000)
    read, outcome = _peak(data)
    assert outcome == "read"
    by_count, outcome = _peak(data, max_shared_strings=1_000)
    assert "more than 1,000 distinct" in outcome
    by_bytes, outcome = _peak(data, max_shared_string_bytes=100_000)
    assert "CSINS_MAX_XLSX_STRINGS_BYTES" in outcome
    assert max(by_count, by_bytes) < read / 4, (by_count, by_bytes, read)


RICH = (
    b"<si><t>plain text</t></si>",
    b'<si><r><rPr><b/></rPr><t xml:space="preserve">bold </t></r><r><t>and plain</t></r></si>',
    b'<si><t>\xe6\x9d\xb1\xe4\xba\xac</t><rPh sb="0" eb="2"><t>TOUKYOU</t></rPh></si>',
    b"<si><t>_x005F_x000D_ kept as openpyxl reads it</t></si>",
    b"<si><t/></si>",
)


@pytest.mark.parametrize("index", range(len(RICH)))
def test_shared_strings_read_as_openpyxl_reads_them(index: int) -> None:
    data = _point_cell_at(_workbook(10, RICH), "L2", index)
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    expected = next(book.worksheets[0].iter_rows(min_row=2, values_only=True))[11]
    book.close()
    table = open_export(io.BytesIO(data), "rich.xlsx", MAX_BYTES)
    try:
        (_, cells), *_ = list(table.rows())
    finally:
        table.close()
    assert cells[11] == ("" if expected is None else expected)


def test_the_budget_comes_from_the_settings_and_convert_refuses(tmp_path) -> None:
    settings = load_settings(
        {"CSINS_MAX_XLSX_STRINGS": "100", "CSINS_MAX_XLSX_STRINGS_BYTES": "4096"}
    )
    assert (settings.max_xlsx_strings, settings.max_xlsx_strings_bytes) == (100, 4096)
    path = tmp_path / "many.xlsx"
    path.write_bytes(_workbook(150))
    with pytest.raises(ExportTooLarge, match="more than 100 distinct"):
        convert(path, settings=Settings(max_xlsx_strings=100))
