"""The guidance as data and code (DESIGN.md §4, §5): what an incident record obliges, and to whom.

Plain Python, no framework and no I/O: the domain the deadlines (:mod:`adapter.deadlines`), the
store and the service read. ``adapter.deadlines`` imports the rules, never the reverse.

    catalogue.py          every document the guidance owes, one row per document and case
    classification.py     :func:`classify`: which rows of §4 a record meets, combined (§2)
    cases.py              the rows' names, why one is blocked, what :func:`classify` answers
    children.py           the rows each child meets;  incident_warnings.py  what to check
    ages.py               a person's age on a date;  jurisdiction.py  which LA owes the Panel
    documents.py          what each delivery carries: payloads built from the record

``from adapter.rules import classify, Classification, ...`` gives the classification's public
names; the other modules are imported by their own names (``adapter.rules.catalogue``).
"""

from __future__ import annotations

from adapter.rules import cases
from adapter.rules.cases import *  # noqa: F403  (cases.__all__: the rows, the answer's types)
from adapter.rules.classification import classify

__all__ = [*cases.__all__, "classify"]
