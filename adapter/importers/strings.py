"""A workbook's shared-string table, read within a budget (issue 19 item 2).

An XLSX cell holding text usually points into ``xl/sharedStrings.xml``, which openpyxl reads
whole before the first row, even in read-only mode, keeping every parsed element alive until the
end: a 2.4 MB upload holding 22 MB of short strings took +159 MB and 12 s. Here the table is
streamed (defusedxml's ``iterparse``, each ``<si>`` dropped once its text is taken) into a plain
list of strings, and refused with :class:`ExportTooLarge` when its XML is larger than
``max_bytes`` (read from the zip's directory, before anything is inflated: the declared size
binds, see :mod:`adapter.importers.archives`) or it holds more than ``max_count`` strings
(checked as they are read). Time and memory are thus bounded by the budget, not by the upload.

:class:`BudgetedReader` is openpyxl's own workbook reader with this one step replaced, so cells
resolve to the same text as before (formatting runs joined, phonetic hints left out).
"""

from __future__ import annotations

from typing import IO, Any

from defusedxml.ElementTree import iterparse
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS

from adapter.errors import ExportTooLarge

_SI = f"{{{SHEET_MAIN_NS}}}si"
_T = f"{{{SHEET_MAIN_NS}}}t"
_R = f"{{{SHEET_MAIN_NS}}}r"


def _text(item: Any) -> str:
    """The text of one ``<si>``: its plain ``<t>`` and the ``<t>`` of each formatted run
    (``<r>``), as openpyxl's ``Text.content`` gives it; phonetic runs (``<rPh>``) are hints."""
    parts: list[str] = []
    for child in item:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            parts.extend(t.text or "" for t in child.iter(_T))
    # openpyxl drops this escape prefix (Excel's ``_x005F_``); kept so cells read as before.
    return "".join(parts).replace("x005F_", "")


def read_shared_strings(stream: IO[bytes], name: str, max_count: int) -> list[str]:
    """Every string of a shared-string table, streamed; :class:`ExportTooLarge` past
    ``max_count`` strings (stopping there, having read no more)."""
    strings: list[str] = []
    root = None
    for event, element in iterparse(stream, events=("start", "end")):
        if root is None:  # the first start event is the <sst> root
            root = element
            continue
        if event != "end" or element.tag != _SI:
            continue
        if len(strings) >= max_count:
            raise ExportTooLarge(
                f"{name} holds more than {max_count:,} distinct text values (its shared-string "
                f"table); the limit is {max_count:,} (CSINS_MAX_XLSX_STRINGS). Split the export, "
                "or save it as CSV"
            )
        strings.append(_text(element))
        root.clear()  # drop the <si> just read (and any before it) from the tree
    return strings


class BudgetedReader(ExcelReader):  # type: ignore[misc]
    """openpyxl's workbook reader, reading the shared strings within a budget."""

    def __init__(self, binary: IO[bytes], name: str, max_bytes: int, max_count: int) -> None:
        super().__init__(binary, read_only=True, data_only=True)
        self.name = name
        self.max_string_bytes = max_bytes
        self.max_string_count = max_count

    def read_strings(self) -> None:
        part = self.package.find(SHARED_STRINGS)
        if part is None:
            return
        path = part.PartName[1:]
        size = self.archive.getinfo(path).file_size
        if size > self.max_string_bytes:
            raise ExportTooLarge(
                f"{self.name} holds {size:,} bytes of distinct text values (its shared-string "
                f"table, {path}); the limit is {self.max_string_bytes:,} bytes "
                "(CSINS_MAX_XLSX_STRINGS_BYTES). Split the export, or save it as CSV"
            )
        with self.archive.open(path) as stream:
            self.shared_strings = read_shared_strings(stream, self.name, self.max_string_count)
