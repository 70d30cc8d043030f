"""``csins-adapter convert``: a case-system export → incident records as NDJSON (DESIGN.md §7).

Records go to ``--out`` (default stdout), one JSON object per line with ISO dates. Rows that
cannot be converted are reported, never dropped: as NDJSON lines ``{"row", "field", "value",
"message", "incident"}`` to ``--errors``, else as readable lines on stderr. A one-line summary
always goes to stderr; a progress bar too, but only when stderr is a terminal.

Exit status: 0 every row converted (a header with no data rows converts nothing and exits 0),
1 some rows rejected (the rest still written), 2 the file cannot be read at all, or the output
cannot be written (one line on stderr says why). ``--out`` and ``--errors`` files are written
whole or not at all: they appear only when the conversion finishes (exit 0 or 1); records
already streamed to stdout before a late failure (a workbook corrupt halfway) stay written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, NoReturn

import click

from adapter.cli.options import system_option
from adapter.errors import ExportError
from adapter.importers import (
    Conversion,
    Converted,
    RowProblem,
    convert_export,
    problem_to_json,
    record_to_json,
)
from config.settings import SettingsError, load_settings

EXIT_CONVERTED = 0
"""Every row converted."""
EXIT_ROWS_REJECTED = 1
"""Some rows were rejected; the others were converted and written."""
EXIT_UNREADABLE = 2
"""The file cannot be read at all; nothing (or, on stdout, only part) was written."""

PROGRESS_STEP_ROWS = 500
"""Rows between progress-bar redraws."""


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@system_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the records (NDJSON) here instead of stdout.",
)
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the row-level error report (NDJSON) here instead of stderr.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    hidden=True,
    help="The date became_aware_on may not be after (default: today, Europe/London).",
)
def convert(
    file: Path,
    system: str,
    out_path: Path | None,
    errors_path: Path | None,
    today: dt.datetime | None,
) -> None:
    """Convert a Liquidlogic or Mosaic export FILE (CSV or XLSX) into incident records."""
    try:
        conversion = convert_export(
            file,
            system=system.lower(),
            settings=load_settings(),
            today=today.date() if today else None,
        )
    except (ExportError, SettingsError) as exc:
        _fail(str(exc) if file.name in str(exc) else f"{file.name}: {exc}")
    try:
        with conversion, _output(out_path) as records, _output(errors_path) as errors:
            _write(conversion, records or sys.stdout, errors)
    except ExportError as exc:
        _fail(str(exc))
    except BrokenPipeError:
        _quiet_stdout()
        _fail("the output was closed before the conversion finished")
    except OSError as exc:
        _fail(f"cannot write {exc.filename or 'the output'}: {exc.strerror or exc}")
    summary = conversion.summary
    if summary.rows_read == 0:
        click.echo(f"{summary.file}: a header but no data rows; nothing to convert", err=True)
    else:
        click.echo(summary.describe(), err=True)
    sys.exit(EXIT_CONVERTED if summary.complete else EXIT_ROWS_REJECTED)


def _write(conversion: Conversion, records: IO[str], errors: IO[str] | None) -> None:
    """Stream every result: records to ``records``, problems to ``errors`` or stderr."""
    on_terminal = _on_terminal()
    report = _reporter(errors, clear_line=on_terminal)
    with click.progressbar(
        length=conversion.survey.rows,
        label=conversion.table.name,
        file=sys.stderr,
        hidden=not on_terminal,
        update_min_steps=PROGRESS_STEP_ROWS,
    ) as bar:
        for result in conversion:
            if isinstance(result, Converted):
                records.write(record_to_json(result.record) + "\n")
            else:
                for problem in result.problems:
                    report(problem)
            bar.update(len(result.rows))


def _on_terminal() -> bool:
    """Whether stderr is a terminal: only then is there a progress bar."""
    return sys.stderr.isatty()


def _reporter(errors: IO[str] | None, clear_line: bool) -> Callable[[RowProblem], object]:
    """Where problems go: NDJSON lines to ``errors``, else readable lines to stderr (clearing a
    progress bar's line first on a terminal)."""
    if errors is not None:
        return lambda problem: errors.write(problem_to_json(problem) + "\n")
    prefix = "\r\x1b[K" if clear_line else ""
    return lambda problem: sys.stderr.write(prefix + describe_problem(problem) + "\n")


def describe_problem(problem: RowProblem) -> str:
    """A problem as one line for people: ``row 5, INCIDENT_DTTM '31/02/2026': ...``."""
    where = f"row {problem.row}"
    if problem.field is not None:
        where += f", {problem.field}"
    if problem.value is not None:
        where += f" {problem.value!r}"
    return f"{where}: {problem.message}"


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[IO[str] | None]:
    """A file written whole or not at all (a temporary file renamed at the end); ``None`` when
    no path is given.

    A symlink is followed, so the file it points at is the one replaced (the link stays). What
    is not a regular file (``/dev/stdout``, ``/dev/null``, a named pipe) is written straight
    through: renaming over it would replace a device, and as root that succeeds.
    """
    if path is None:
        yield None
        return
    path = path.resolve()
    if path.exists() and not path.is_file():
        try:
            stream = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        with stream:
            yield stream
        return
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed or removed below
            "w",
            encoding="utf-8",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".part",
            delete=False,
        )
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def _fail(message: str) -> NoReturn:
    """Exit 2 with one line on stderr saying why."""
    with contextlib.suppress(OSError):
        click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _quiet_stdout() -> None:
    """After a closed pipe (``convert ... | head``), stop Python complaining at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
