"""Converting one export: open it, recognise the system, survey it, then stream its incidents.

Grouping and streaming (§3.1: rows sharing an incident reference become one incident). Real
reports are ordered by incident, then child, so the rows of an incident are adjacent: conversion
keeps only the incident being read in memory and finishes it when the reference changes, so
memory does not grow with the number of rows. Rows of one incident that are *not* adjacent cannot
be grouped in bounded memory, and finishing the first part would send half an incident; so a
survey pass reads the file once before converting, finds every reference that reappears after
other incidents' rows, and conversion rejects all rows of those incidents, saying where the
reference reappears ("sort the export by incident reference"). The survey also counts the rows,
so a file over the row limit is refused before anything is converted, and gives the progress bar
its length. It holds the references seen (tens of bytes per incident, bounded by the row limit)
and drops them before conversion starts; a survey of a CSV costs about a tenth of a conversion.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO

from adapter.clock import london_today
from adapter.errors import ExportTooLarge
from adapter.importers.build import IncidentBuilder
from adapter.importers.layout import Layout, bind
from adapter.importers.profiles import choose_profile
from adapter.importers.readers import ExportTable, open_export
from adapter.importers.results import Converted, Rejected, RowProblem, Summary
from config.settings import Settings, load_settings

Result = Converted | Rejected


@dataclass(frozen=True)
class Survey:
    """What one pass over the export found before conversion."""

    rows: int
    """Data rows, blank rows not counted."""
    scattered: Mapping[str, int]
    """Reference → the row where it reappears after other incidents' rows."""


def convert_export(
    source: str | os.PathLike[str] | IO[bytes],
    filename: str | None = None,
    *,
    system: str = "auto",
    settings: Settings | None = None,
    today: dt.date | None = None,
) -> Conversion:
    """Open, recognise and survey an export; iterate the result to convert it.

    ``source`` is a path or a binary stream (an upload; one that cannot seek is spooled to a
    temporary file); ``filename`` names it in records and messages (default: its basename).
    ``system`` is ``auto``, ``liquidlogic`` or ``mosaic``; ``today`` (Europe/London by default)
    is the day ``became_aware_on`` may not be after. Raises :class:`ExportError` (or its
    subclasses ``UnrecognisedExport``, ``ExportTooLarge``) when the file cannot be converted at
    all, and :class:`config.settings.SettingsError` for a bad profile. Use it as a context
    manager, or iterate it to the end, so the file is closed.
    """
    settings = settings or load_settings()
    with contextlib.ExitStack() as cleanup:
        table = open_export(
            source,
            filename,
            settings.max_export_bytes,
            max_shared_string_bytes=settings.max_xlsx_strings_bytes,
            max_shared_strings=settings.max_xlsx_strings,
        )
        cleanup.callback(table.close)
        layout = bind(choose_profile(table.headers, system, settings), table.headers)
        found = survey(table, layout, settings.max_export_rows)
        cleanup.pop_all()
    return Conversion(table, layout, found, today or london_today())


def survey(table: ExportTable, layout: Layout, max_rows: int) -> Survey:
    """Count the data rows (refusing more than ``max_rows``) and find scattered incidents."""
    width, index = layout.width, layout.reference.index
    rows, last, last_cell = 0, None, None
    closed: set[str] = set()
    scattered: dict[str, int] = {}
    for row, cells in table.rows():
        if len(cells) != width or cells[index] != last_cell:
            found = read_reference(layout, row, cells)
            if found is None:
                continue
            if isinstance(found, RowProblem):  # a ragged row still counts where it names one
                found = found.incident
            if found is not None and found != last:
                if last is not None:
                    closed.add(last)
                if found in closed:
                    scattered.setdefault(found, row)
                last, last_cell = found, cells[index] if len(cells) == width else None
        rows += 1
        if rows > max_rows:
            raise ExportTooLarge(
                f"{table.name} has more than {max_rows:,} data rows; the limit is "
                "CSINS_MAX_EXPORT_ROWS"
            )
    return Survey(rows, scattered)


def read_reference(layout: Layout, row: int, cells: list[str]) -> str | RowProblem | None:
    """The incident reference of a row; a problem when the row has none that can be read (it
    is ragged, or the cell is blank or too long); ``None`` for a blank row, which is skipped.
    Empty cells past the header's width (trailing commas) are dropped from ``cells``."""
    column = layout.reference
    if len(cells) > layout.width and _blank(cells[layout.width :]):
        del cells[layout.width :]
    if len(cells) != layout.width:
        if _blank(cells):
            return None
        reference = None
        if len(cells) > column.index:
            with contextlib.suppress(ValueError):
                reference = column.parse(cells[column.index])
        return RowProblem(
            row,
            None,
            None,
            f"has {len(cells)} cells but the header has {layout.width} (a stray comma, or a "
            "line break outside quotes?)",
            reference,
        )
    cell = cells[column.index]
    try:
        reference = column.parse(cell) if cell else None
    except ValueError as exc:
        return RowProblem(row, column.header, cell, str(exc))
    if reference is None and not _blank(cells):
        return RowProblem(
            row,
            column.header,
            cell,
            "required: incident.reference may not be blank, so the row belongs to no incident",
        )
    return reference


class Conversion:
    """An export being converted: iterate it once for :class:`Converted` and :class:`Rejected`
    results, in file order; :attr:`summary` counts them as they go."""

    def __init__(self, table: ExportTable, layout: Layout, found: Survey, today: dt.date) -> None:
        self.table = table
        self.layout = layout
        self.survey = found
        self.summary = Summary(layout.profile.system, table.name, table.encoding)
        self._builder = IncidentBuilder(layout, table.name, today)
        self._started = False

    @property
    def system(self) -> str:
        return self.layout.profile.system

    def __enter__(self) -> Conversion:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.table.close()

    def __iter__(self) -> Iterator[Result]:
        if self._started:
            raise RuntimeError("a conversion can be iterated only once")
        self._started = True
        try:
            for result in self._results():
                self._count(result)
                yield result
        finally:
            self.close()

    def _count(self, result: Result) -> None:
        if isinstance(result, Converted):
            self.summary.incidents_converted += 1
        else:
            self.summary.rows_rejected += len(result.rows)
            if result.incident is not None:
                self.summary.incidents_rejected += 1

    def _results(self) -> Iterator[Result]:
        """The grouping loop (see the module docstring)."""
        builder, summary, layout = self._builder, self.summary, self.layout
        width, index = layout.width, layout.reference.index
        draft, draft_cell = None, None
        ragged: list[RowProblem] = []  # ragged rows of an incident that has not started yet
        for row, cells in self.table.rows():
            if draft is not None and len(cells) == width and cells[index] == draft_cell:
                summary.rows_read += 1
                builder.add(draft, row, cells)
                continue
            found = read_reference(layout, row, cells)
            if found is None:
                continue
            summary.rows_read += 1
            if isinstance(found, RowProblem):
                if draft is not None and found.incident == draft.reference:
                    builder.reject_row(draft, found)
                elif found.incident is not None:
                    ragged.append(found)
                else:
                    yield _alone(found)
            elif draft is not None and found == draft.reference:
                builder.add(draft, row, cells)
            else:
                if draft is not None:
                    yield builder.finish(draft)
                yield from (_alone(problem) for problem in ragged if problem.incident != found)
                draft, draft_cell = builder.start(found, row, cells), cells[index]
                for problem in [*self._scattered(found, row, cells), *ragged]:
                    if problem.incident == found:
                        builder.reject_row(draft, problem)
                ragged.clear()
        if draft is not None:
            yield builder.finish(draft)
        yield from (_alone(problem) for problem in ragged)

    def _scattered(self, reference: str, row: int, cells: list[str]) -> list[RowProblem]:
        """The problem of an incident whose rows the survey found apart, if it is one."""
        again = self.survey.scattered.get(reference)
        if again is None:
            return []
        column = self.layout.reference
        return [
            RowProblem(
                row,
                column.header,
                cells[column.index],
                f"the rows of incident {reference} are not together: it reappears at row "
                f"{again} after rows of other incidents; sort the export by incident reference, "
                "then child",
                reference,
            )
        ]


def _alone(problem: RowProblem) -> Rejected:
    """A row that belongs to no incident that could be read."""
    return Rejected(None, (problem.row,), (problem,))


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)
