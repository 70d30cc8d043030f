"""Reading an export file as a header row and data rows of text cells: CSV or XLSX (§3.1).

The size limit is checked before anything is read. CSV text is UTF-8 (with or without a
byte-order mark) or Windows-1252, decided once for the whole file, never per row: the bytes are
tried as strict UTF-8 first, and only if that fails as Windows-1252. A NUL byte, or a byte neither
encoding defines, means the file is not text. The header is the first record that is not blank
(byte-order marks do not count: some tools write one on a line of its own). XLSX is streamed
with openpyxl's read-only mode from the first sheet, once :mod:`~adapter.importers.archives` has
checked the zip cannot inflate past what an export needs, its shared strings read within a
budget (:mod:`~adapter.importers.strings`); date cells become
``yyyy-mm-dd hh:mm:ss`` text, so both kinds of file reach the parsers as text.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row row 2.
In a CSV, a row is a record (a quoted cell may span lines), not a physical line. Both readers
can be read more than once (the conversion surveys the file before converting it).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import os
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

from adapter.errors import ExportError, ExportTooLarge
from adapter.importers.archives import check_workbook_archive
from config.settings import MAX_XLSX_STRINGS, MAX_XLSX_STRINGS_BYTES

Row = tuple[int, list[str]]

_CHUNK = 1 << 16
"""Bytes read at a time when checking the encoding (64 KiB: decoding larger chunks of UTF-8
leaves the C allocator holding tens of MB, which the memory target cannot afford)."""

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"


class ExportTable:
    """An opened export: its header row, and its data rows on demand."""

    encoding: str | None = None
    """The text encoding decided for the file (``None`` for a workbook)."""
    headers: list[str]
    header_row: int

    def __init__(self, binary: IO[bytes], name: str, size: int, owned: bool) -> None:
        self.name = name
        self.size = size
        self._binary = binary
        self._owned = owned

    def rows(self) -> Iterator[Row]:
        """``(row number, cells)`` for every row after the header, blank ones included."""
        raise NotImplementedError

    def close(self) -> None:
        if self._owned:
            self._binary.close()


def open_export(
    source: str | os.PathLike[str] | IO[bytes],
    filename: str | None,
    max_bytes: int,
    *,
    max_shared_string_bytes: int = MAX_XLSX_STRINGS_BYTES,
    max_shared_strings: int = MAX_XLSX_STRINGS,
) -> ExportTable:
    """Open ``source`` (a path, or a binary stream such as an upload) as an export table.

    Raises :class:`ExportTooLarge` over ``max_bytes``, or for a workbook whose shared-string
    table is over ``max_shared_string_bytes`` of XML or ``max_shared_strings`` strings, and
    :class:`ExportError` for a file that is missing, empty, binary, in another encoding, without
    a header row, or a corrupt workbook (or one that would inflate past what an export needs).
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        name = filename or path.name
        try:
            size = path.stat().st_size
            _check_size(name, size, max_bytes)
            binary: IO[bytes] = path.open("rb")
        except OSError as exc:
            raise ExportError(f"cannot open {name}: {exc.strerror or exc}") from None
        owned = True
    else:
        given = getattr(source, "name", None)
        name = filename or (Path(given).name if isinstance(given, str) and given else "upload")
        binary, size, owned = _seekable(source, name, max_bytes)
    try:
        budget = (max_shared_string_bytes, max_shared_strings)
        return _table(binary, name, size, owned, max_bytes, budget)
    except BaseException:
        if owned:
            binary.close()
        raise


def _check_size(name: str, size: int, max_bytes: int, *, empty: bool = True) -> None:
    """Refuse a file over the limit (the size so far, for a stream being copied) or empty."""
    if size > max_bytes:
        raise ExportTooLarge(
            f"{name} is {size:,} bytes; the limit is {max_bytes:,} bytes (CSINS_MAX_EXPORT_BYTES)"
        )
    if empty and size == 0:
        raise ExportError(f"{name} is empty (0 bytes)")


def _seekable(stream: IO[bytes], name: str, max_bytes: int) -> tuple[IO[bytes], int, bool]:
    """The stream itself when it can seek, else a spooled copy (stopping past the limit)."""
    if stream.seekable():
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        _check_size(name, size, max_bytes)
        return stream, size, False
    copy = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the table, closed by close()
    try:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            copy.write(chunk)
            _check_size(name, copy.tell(), max_bytes, empty=False)
        size = copy.tell()
        _check_size(name, size, max_bytes)
        copy.seek(0)
    except BaseException:
        copy.close()
        raise
    return copy, size, True


def _table(
    binary: IO[bytes], name: str, size: int, owned: bool, max_bytes: int, budget: tuple[int, int]
) -> ExportTable:
    head = binary.read(4)
    binary.seek(0)
    if head == _XLSX_MAGIC:
        return XlsxTable(binary, name, size, owned, max_bytes, budget)
    if head == _XLS_MAGIC:
        raise ExportError(f"{name} is an Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV")
    return CsvTable(binary, name, size, owned)


def decide_encoding(binary: IO[bytes], name: str) -> str:
    """``utf-8-sig``, ``utf-8`` or ``cp1252`` for the whole file; :class:`ExportError` if binary."""
    binary.seek(0)
    head = binary.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ExportError(f"{name} is UTF-16 text: save it as CSV in UTF-8 or Windows-1252")
    binary.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, offset = True, 0
    for chunk in iter(lambda: binary.read(_CHUNK), b""):
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise ExportError(
                f"{name} is not a CSV or XLSX export: it holds binary data "
                f"(a NUL byte at offset {offset + nul})"
            )
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
        offset += len(chunk)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if utf8:
        return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    binary.seek(0)
    offset = 0
    for chunk in iter(lambda: binary.read(_CHUNK), b""):
        try:
            chunk.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ExportError(
                f"{name} is not text in UTF-8 or Windows-1252: byte 0x{chunk[exc.start]:02X} "
                f"at offset {offset + exc.start}"
            ) from None
        offset += len(chunk)
    return "cp1252"


class CsvTable(ExportTable):
    """A comma-separated export in one encoding for the whole file."""

    def __init__(self, binary: IO[bytes], name: str, size: int, owned: bool) -> None:
        super().__init__(binary, name, size, owned)
        self.encoding = decide_encoding(binary, name)
        self.header_row, self.headers = 0, []
        for number, cells in self._records():
            headers = _header_cells(cells)
            if headers:  # lines before the header holding nothing (or only a BOM) are skipped
                self.header_row, self.headers = number, headers
                break
        if not self.headers:
            raise ExportError(
                f"{name} has no header row: every line is blank (or holds only a byte-order mark)"
            )

    def rows(self) -> Iterator[Row]:
        return itertools.islice(self._records(), self.header_row, None)

    def _records(self) -> Iterator[Row]:
        self._binary.seek(0)
        text = io.TextIOWrapper(self._binary, encoding=self.encoding, newline="")
        number = 0
        try:
            for number, cells in enumerate(csv.reader(text), start=1):
                yield number, cells
        except csv.Error as exc:
            raise ExportError(
                f"{self.name}: row {number + 1} is not readable as CSV ({exc})"
            ) from None
        finally:
            text.detach()  # the binary file stays open for the next pass


def _header_cells(cells: list[str]) -> list[str]:
    """A CSV record as header names, stripped and without trailing empty ones; ``[]`` if blank.

    Byte-order marks at the start are dropped, however many (a file saved twice by tools that
    each add one) and however decoded (``ï»¿`` when the rest of the file is Windows-1252).
    """
    first = cells[0] if cells else ""
    while first.startswith(("\ufeff", "\u00ef\u00bb\u00bf")):
        first = first.removeprefix("\ufeff").removeprefix("\u00ef\u00bb\u00bf")
    headers = [cell.strip() for cell in [first, *cells[1:]]]
    while headers and not headers[-1]:
        headers.pop()  # a trailing comma, or a blank record
    return headers


_XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    OSError,
    ParseError,
)
"""What openpyxl raises for a corrupt workbook (besides its own ``InvalidFileException``)."""


class XlsxTable(ExportTable):
    """The first sheet of a workbook, streamed (openpyxl read-only mode); first row = headers.

    ``budget`` is the most bytes of XML and the most strings its shared-string table may hold
    (:mod:`adapter.importers.strings`: read before the first row, so it must be bounded)."""

    def __init__(
        self,
        binary: IO[bytes],
        name: str,
        size: int,
        owned: bool,
        max_bytes: int,
        budget: tuple[int, int] = (MAX_XLSX_STRINGS_BYTES, MAX_XLSX_STRINGS),
    ) -> None:
        super().__init__(binary, name, size, owned)
        from openpyxl.utils.exceptions import InvalidFileException

        from adapter.importers.strings import BudgetedReader

        self._errors = (*_XLSX_ERRORS, InvalidFileException)
        try:
            check_workbook_archive(binary, name, max_bytes)  # before openpyxl inflates anything
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # style and extension notices of other tools
                reader = BudgetedReader(binary, name, *budget)
                reader.read()
                self._book = reader.wb
            if not self._book.worksheets:
                raise ExportError(f"{name} has no worksheet")
            self._sheet = self._book.worksheets[0]
            self._sheet.reset_dimensions()  # some writers record a wrong sheet size
        except self._errors as exc:
            raise self._corrupt(exc) from None
        try:
            self.header_row, self.headers = self._header()
        except BaseException:
            self.close()
            raise

    def _header(self) -> tuple[int, list[str]]:
        for number, cells in self._records():
            if any(cell.strip() for cell in cells):
                headers = [cell.strip() for cell in cells]
                while not headers[-1]:
                    headers.pop()
                return number, headers
        raise ExportError(f"{self.name}: the first sheet has no header row")

    def rows(self) -> Iterator[Row]:
        width = len(self.headers)
        for number, cells in self._records():
            if number <= self.header_row:
                continue
            # Spreadsheets leave trailing cells out, or keep empty ones past the header's width.
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            while len(cells) > width and not cells[-1].strip():
                cells.pop()
            yield number, cells

    def _records(self) -> Iterator[Row]:
        try:
            for number, values in enumerate(self._sheet.iter_rows(values_only=True), start=1):
                yield number, [_cell_text(value) for value in values]
        except self._errors as exc:
            raise self._corrupt(exc) from None

    def _corrupt(self, exc: BaseException) -> ExportError:
        return ExportError(
            f"{self.name} is not a readable XLSX workbook ({type(exc).__name__}: {exc})"
        )

    def close(self) -> None:
        book = getattr(self, "_book", None)
        if book is not None:
            book.close()
        super().close()


def _cell_text(value: Any) -> str:
    """A workbook cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
