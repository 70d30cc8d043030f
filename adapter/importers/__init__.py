"""Case-system exports (Liquidlogic, Mosaic) → incident records (DESIGN.md §3.1).

Plain Python: no Flask, SQLAlchemy or RQ. The CLI's ``convert`` and the REST service's
``POST /imports`` both call :func:`convert_export`::

    with convert_export(upload.stream, upload.filename, settings=settings) as conversion:
        for result in conversion:  # Converted(record, rows) or Rejected(incident, rows, problems)
            ...
        conversion.summary  # rows_read, incidents_converted, incidents_rejected, rows_rejected

Modules: :mod:`~adapter.importers.profiles` (YAML profiles, detection),
:mod:`~adapter.importers.readers` (CSV/XLSX, encodings, limits),
:mod:`~adapter.importers.archives` (zip-bomb checks before a workbook is opened),
:mod:`~adapter.importers.values` (dates, flags, codes), :mod:`~adapter.importers.layout`
(columns → parsers), :mod:`~adapter.importers.build` (rows → record),
:mod:`~adapter.importers.conversion` (grouping, streaming), :mod:`~adapter.importers.results`
(what a conversion yields).
"""

from adapter.clock import london_today
from adapter.importers.conversion import Conversion, convert_export
from adapter.importers.profiles import SYSTEMS, load_profile
from adapter.importers.results import (
    Converted,
    Rejected,
    RowProblem,
    Summary,
    problem_to_json,
    record_to_json,
)

__all__ = [
    "SYSTEMS",
    "Conversion",
    "Converted",
    "Rejected",
    "RowProblem",
    "Summary",
    "convert_export",
    "load_profile",
    "london_today",
    "problem_to_json",
    "record_to_json",
]
