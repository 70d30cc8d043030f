"""Memory and time of opening an XLSX export by the size of its shared-string table (issue 19).

Run ``.venv/bin/python bench/xlsx_strings.py [--megabytes 2.5 7.5] [--length 8]``. For each size
it writes a one-row Liquidlogic workbook whose ``xl/sharedStrings.xml`` holds that many megabytes
of distinct short strings (what a workbook of many distinct values holds), then opens it as
``convert`` and ``POST /imports`` do (:func:`adapter.importers.readers.open_export`) and reads its
rows, printing the tracemalloc peak (Python allocations), the wall-clock time and what happened
(read, or refused over the configured shared-string budget).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapter.errors import ExportError
from adapter.importers import readers
from tests.importers.conftest import make_row, with_shared_strings, write_xlsx

MAX_BYTES = 100 * 1024 * 1024


def workbook(megabytes: float, length: int) -> bytes:
    base = write_xlsx(io.BytesIO(), [make_row("liquidlogic")]).getvalue()
    per_string = len(b"<si><t></t></si>") + length
    return with_shared_strings(base, int(megabytes * 1024 * 1024 / per_string), length)


def _open_and_read(data: bytes, budget: dict[str, int]) -> str:
    try:
        table = readers.open_export(io.BytesIO(data), "bench.xlsx", MAX_BYTES, **budget)
        rows = sum(1 for _ in table.rows())
        table.close()
        return f"read ({rows} row)"
    except ExportError as error:
        return f"refused: {str(error)[:90]}..."


def measure_rss(data: bytes, budget: dict[str, int]) -> tuple[float, float, str]:
    """(growth of the peak resident set in MiB, seconds, outcome) of opening and reading
    ``data`` in a fresh child process, without tracemalloc slowing it."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result: tuple[float, float, str] = pool.apply(_child, (data, budget))
    return result


def _child(data: bytes, budget: dict[str, int]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = _open_and_read(data, budget)
    seconds = time.perf_counter() - started
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    return grown, seconds, outcome


def measure(data: bytes, budget: dict[str, int]) -> tuple[float, float, str]:
    """(tracemalloc peak MiB, seconds, outcome) of opening and reading ``data``."""
    tracemalloc.start()
    started = time.perf_counter()
    outcome = _open_and_read(data, budget)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    return peak, seconds, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, nargs="+", default=[2.5, 7.5])
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--budget-bytes", type=int, default=None)
    parser.add_argument("--budget-count", type=int, default=None)
    args = parser.parse_args()
    budget: dict[str, int] = {}
    if args.budget_bytes is not None:
        budget["max_shared_string_bytes"] = args.budget_bytes
    if args.budget_count is not None:
        budget["max_shared_strings"] = args.budget_count
    for megabytes in args.megabytes:
        data = workbook(megabytes, args.length)
        grown, seconds, outcome = measure_rss(data, budget)
        peak, _, _ = measure(data, budget)
        print(
            f"{megabytes:5.1f} MB of shared strings ({len(data) / 1024:,.0f} KiB file): "
            f"max RSS +{grown:6.1f} MiB, {seconds:5.2f} s; tracemalloc peak {peak:6.1f} MiB; "
            f"{outcome}"
        )


if __name__ == "__main__":
    main()
