"""Refusing a workbook whose zip would inflate beyond anything an export needs (a zip bomb).

An XLSX file is a zip of XML members. openpyxl inflates a member as it parses it and holds each
text node (a cell's string) whole: a 400 KB upload whose one cell inflated to 400 MB took 1.6 GB
of memory. So before openpyxl opens a workbook, :func:`check_workbook_archive` reads the zip's
directory (no inflating) and refuses a total inflated size over a multiple of the export limit or
a large member that compresses far better than real sheet XML does; then it inflates each large
XML member once, in chunks, and refuses a run of text between markup longer than any cell can
be. The sizes the directory declares bind: Python's ``zipfile`` stops a member at its declared
size (and its CRC check then fails), so a member cannot inflate past what was checked here.
"""

from __future__ import annotations

import zipfile
from typing import IO

from adapter.errors import ExportError, ExportTooLarge

XLSX_EXPANSION = 20
"""Most bytes a workbook's members may inflate to in all, as a multiple of the export size limit
(``CSINS_MAX_EXPORT_BYTES``; 2 GB by default). A workbook at the row limit (500 000 rows of a
37-column export) is about 1 GB of XML."""

XLSX_MAX_RATIO = 100
"""Most a large member may compress, inflated bytes per stored byte (sheets measure 13 to 16)."""

XLSX_RATIO_FLOOR = 1024 * 1024
"""Members inflating to fewer bytes than this (1 MiB) are not held to :data:`XLSX_MAX_RATIO`:
small parts (styles, an empty sheet) compress well and cannot hurt."""

XLSX_MAX_TEXT_RUN = 1024 * 1024
"""Longest run of bytes (1 MiB) an XML member may hold between two markup characters. A cell
holds at most 32 767 characters (Excel's limit): about 160 KiB even with every one escaped."""


def check_workbook_archive(binary: IO[bytes], name: str, max_bytes: int) -> None:
    """Refuse ``binary`` (a zip) if it would inflate past what an export of ``max_bytes`` needs.

    Raises :class:`ExportTooLarge` over the total, :class:`ExportError` for a member that
    compresses too well or holds too long a text, and lets ``zipfile.BadZipFile`` (a corrupt
    archive) through for the caller to report. The stream is left at its start.
    """
    try:
        with zipfile.ZipFile(binary) as archive:
            members = archive.infolist()
            _check_directory(members, name, max_bytes)
            for member in members:
                if member.filename.lower().endswith(".xml") and member.file_size > (
                    XLSX_MAX_TEXT_RUN
                ):
                    _check_text_runs(archive, member, name)
    finally:
        binary.seek(0)


def _check_directory(members: list[zipfile.ZipInfo], name: str, max_bytes: int) -> None:
    """The sizes the zip's directory declares: the total, and each large member's ratio."""
    limit = XLSX_EXPANSION * max_bytes
    total = sum(member.file_size for member in members)
    if total > limit:
        raise ExportTooLarge(
            f"{name} would inflate to {total:,} bytes when unzipped; the limit is {limit:,} "
            f"bytes ({XLSX_EXPANSION} times CSINS_MAX_EXPORT_BYTES), so it cannot be read"
        )
    for member in members:
        if member.file_size < XLSX_RATIO_FLOOR:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > XLSX_MAX_RATIO:
            raise ExportError(
                f"{name} cannot be read: its part {member.filename} inflates from "
                f"{member.compress_size:,} to {member.file_size:,} bytes ({ratio:,.0f} to 1); "
                f"a workbook's parts compress at most {XLSX_MAX_RATIO} to 1, so this looks like "
                "a zip bomb"
            )


def _check_text_runs(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member holding more than :data:`XLSX_MAX_TEXT_RUN` bytes between markup.

    Read in chunks of the limit itself, a run inside one chunk is shorter than the limit, so
    only runs crossing chunk boundaries need counting (``run``: bytes since the last ``<``/``>``).
    """
    limit, run = XLSX_MAX_TEXT_RUN, 0
    with archive.open(member) as stream:
        while chunk := stream.read(limit):
            first = min((at for at in (chunk.find(b"<"), chunk.find(b">")) if at >= 0), default=-1)
            if first < 0:
                run += len(chunk)
            else:
                run += first
                if run <= limit:
                    run = len(chunk) - 1 - max(chunk.rfind(b"<"), chunk.rfind(b">"))
            if run > limit:
                raise ExportError(
                    f"{name} cannot be read: its part {member.filename} holds more than "
                    f"{limit:,} bytes of text in one piece, longer than any cell can be (Excel "
                    "allows 32,767 characters)"
                )
