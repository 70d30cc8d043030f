"""Workbooks that would inflate past what an export needs are refused before openpyxl reads them.

A reviewer's 400 KB upload whose one cell inflated to 400 MB took 1.6 GB of memory; these build
the same shapes small (a few MiB inflated) so the suite stays fast.
"""

from __future__ import annotations

import io
import random
import re
import string
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapter.errors import ExportError, ExportTooLarge
from adapter.importers import archives
from config.settings import Settings
from tests.importers.conftest import (
    convert,
    rezip,
    sample_rows,
    write_xlsx,
    xlsx_with_long_cell,
    zip_bomb,
)


def _mixed_letters(count: int) -> str:
    """Text that compresses about 2 to 1 (16 letters at random): no ratio check catches it."""
    pick = random.Random(4).choice
    return "".join(pick(string.ascii_lowercase[:16]) for _ in range(count))


def _padded(parts: int, size: int) -> bytes:
    """The Mosaic sample as a workbook with ``parts`` extra parts of ``size`` zero bytes each:
    each under the ratio check's floor, together far over the total."""
    good = write_xlsx(io.BytesIO(), sample_rows("mosaic")).getvalue()
    return rezip(good, {f"xl/media/pad{n}.bin": bytes(size) for n in range(parts)})


@pytest.mark.parametrize(
    ("content", "max_bytes", "error", "says"),
    [
        pytest.param(
            zip_bomb(2),
            100 * 1024 * 1024,
            ExportError,
            "its part xl/worksheets/sheet1.xml inflates from",
            id="one-cell-at-1000-to-1",
        ),
        pytest.param(
            _padded(30, 900_000),
            1_000_000,
            ExportTooLarge,
            "would inflate to 27,",
            id="many-small-parts-over-the-total",
        ),
        pytest.param(
            xlsx_with_long_cell(_mixed_letters(archives.XLSX_MAX_TEXT_RUN + 1)),
            100 * 1024 * 1024,
            ExportError,
            "holds more than 1,048,576 bytes of text in one piece",
            id="one-cell-longer-than-any-cell-can-be",
        ),
    ],
)
def test_a_workbook_that_would_inflate_too_far_is_refused(
    content: bytes, max_bytes: int, error: type[ExportError], says: str
) -> None:
    with pytest.raises(error, match=re.escape(says)) as refused:
        convert(io.BytesIO(content), "bomb.xlsx", settings=Settings(max_export_bytes=max_bytes))
    assert str(refused.value).startswith("bomb.xlsx ")


def test_a_cell_as_long_as_excel_allows_is_read() -> None:
    """32 767 characters, Excel's limit for one cell: the reader passes it on to the parsers
    (which may reject the row for other reasons, never the file)."""
    content = xlsx_with_long_cell(_mixed_letters(32_767))
    outcome = convert(io.BytesIO(content), "long.xlsx")
    assert outcome.summary.rows_read == 4


def test_a_large_ordinary_workbook_passes_the_checks() -> None:
    """A sheet of several MiB compresses about 14 to 1, far inside every limit."""
    rows = sample_rows("liquidlogic") * 500
    content = write_xlsx(io.BytesIO(), rows).getvalue()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.getinfo("xl/worksheets/sheet1.xml").file_size > archives.XLSX_RATIO_FLOOR
    archives.check_workbook_archive(io.BytesIO(content), "big.xlsx", 1024 * 1024)


def _longest_run(text: bytes) -> int:
    return max(len(piece) for piece in re.split(rb"[<>]", text))


@given(
    st.lists(st.sampled_from([b"a", b"bb", b"<", b">", b"c" * 7]), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=12),
)
def test_a_text_run_is_refused_exactly_when_longer_than_the_limit(
    pieces: list[bytes], limit: int
) -> None:
    """Whatever the chunk boundaries (the chunk is the limit), the scan finds the longest run."""
    text = b"".join(pieces)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("part.xml", text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(archives, "XLSX_MAX_TEXT_RUN", limit)
        if _longest_run(text) > limit:
            with pytest.raises(ExportError, match="bytes of text in one piece"):
                archives.check_workbook_archive(buffer, "x.xlsx", 1024)
        else:
            archives.check_workbook_archive(buffer, "x.xlsx", 1024)
    assert buffer.tell() == 0
