"""Rows → one incident record: parse each row, check the incident's rows agree, derive, assemble.

An :class:`IncidentDraft` collects the rows of one incident (one row per child, §3.1). The
incident-level cells of every later row are compared with the first row's; a disagreement is a
problem of that row naming both values, never silently merged. Plans and care episodes are
derived, not copied: they count when open on the incident date. The finished draft is checked
with :func:`schemas.consistency.check_record`; an incident with any problem is rejected whole.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapter.importers.children import ChildMaker, RowAt
from adapter.importers.layout import Column, Layout
from adapter.importers.profiles import FIELD_KINDS
from adapter.importers.results import Converted, Rejected, RowProblem
from schemas.consistency import check_record
from schemas.incident import MAX_CHILDREN, SCHEMA_VERSION

Cells = Sequence[str]
Plan = tuple[tuple[int, str, dict[str, Any], int, bool, Column], ...]
"""Per column: cell index, input field, memo and its limit, required, and the column itself."""

_UNSEEN = object()
"""A cell not in its column's memo yet."""


@dataclass(slots=True)
class IncidentDraft:
    """The rows of one incident read so far."""

    reference: str
    first_row: int
    first_cells: Cells
    first_raw: Any
    """The first row's incident-level cells, to compare later rows with cheaply."""
    incident: dict[str, Any]
    """The first row's incident-level values by input field."""
    rows: list[int] = field(default_factory=list)
    """Every row of the incident, in file order."""
    children: list[dict[str, Any]] = field(default_factory=list)
    child_rows: list[int] = field(default_factory=list)
    child_cells: list[Cells] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    local_ids: dict[str, int] = field(default_factory=dict)


class IncidentBuilder:
    """Turns an export's rows into records, for one layout, file and day."""

    def __init__(self, layout: Layout, file: str, today: dt.date | None) -> None:
        self.layout = layout
        self.file = file
        self.today = today
        self._incident_cells = _getter([c.index for c in layout.incident])
        self._incident_plan = _plan(layout.incident)
        self._child_plan = _plan(layout.child)
        self._no_child_values = dict.fromkeys(f for f in FIELD_KINDS if f.startswith("child."))
        self._no_incident_values = dict.fromkeys(
            f for f in FIELD_KINDS if f not in self._no_child_values
        )
        self._children = ChildMaker(layout)

    def start(self, reference: str, row: int, cells: Cells) -> IncidentDraft:
        """A draft whose first row is ``row``."""
        problems: list[RowProblem] = []
        incident = self._parse(
            self._incident_plan, cells, row, reference, problems, self._no_incident_values.copy()
        )
        draft = IncidentDraft(
            reference, row, cells, self._incident_cells(cells), incident, problems=problems
        )
        self._add_child(draft, row, cells)
        return draft

    def add(self, draft: IncidentDraft, row: int, cells: Cells) -> None:
        """A later row of the draft's incident: its incident-level cells must agree."""
        if self._incident_cells(cells) != draft.first_raw:
            self._compare(draft, row, cells)
        self._add_child(draft, row, cells)

    def reject_row(self, draft: IncidentDraft, problem: RowProblem) -> None:
        """A row of the draft's incident that cannot be read: the incident is rejected with it."""
        draft.problems.append(problem)
        if problem.row not in draft.rows:
            draft.rows.append(problem.row)

    def finish(self, draft: IncidentDraft) -> Converted | Rejected:
        """The record, or every problem of every row when any row failed."""
        if not draft.problems:
            record = self._record(draft)
            for path, message in check_record(record, self.today):
                draft.problems.append(self._locate(draft, path, message))
            if not draft.problems:
                return Converted(record, tuple(draft.rows))
        failed = {problem.row for problem in draft.problems}
        rows_failed = ", ".join(map(str, sorted(failed)))
        for row in draft.rows:
            if row not in failed:
                draft.problems.append(
                    RowProblem(
                        row,
                        self.layout.reference.header,
                        draft.reference,
                        f"not converted: incident {draft.reference} is rejected because of "
                        f"row(s) {rows_failed}",
                        draft.reference,
                    )
                )
        draft.problems.sort(key=lambda problem: problem.row)
        return Rejected(draft.reference, tuple(sorted(draft.rows)), tuple(draft.problems))

    @staticmethod
    def _parse(
        plan: Plan,
        cells: Cells,
        row: int,
        reference: str | None,
        problems: list[RowProblem],
        parsed: dict[str, Any],
    ) -> dict[str, Any]:
        """Fill ``parsed`` (every field already ``None``) with the values of the plan's columns
        in one row; bad cells and blank required ones become problems. The hot loop of a
        conversion: a blank cell costs a test, a cell seen before a dictionary lookup."""
        for index, name, memo, limit, required, column in plan:
            cell = cells[index]
            if cell:
                value = memo.get(cell, _UNSEEN)
                if value is _UNSEEN:
                    try:
                        value = column.parse(cell)
                    except ValueError as exc:
                        problems.append(RowProblem(row, column.header, cell, str(exc), reference))
                        continue
                    if len(memo) < limit:
                        memo[cell] = value
                if value is not None:
                    parsed[name] = value
                    continue
            if required:
                problems.append(
                    RowProblem(
                        row, column.header, cell, f"required: {name} may not be blank", reference
                    )
                )
        return parsed

    def _compare(self, draft: IncidentDraft, row: int, cells: Cells) -> None:
        """Report each incident-level cell of a later row that disagrees with the first row."""
        problems: list[RowProblem] = []
        values = self._parse(
            self._incident_plan,
            cells,
            row,
            draft.reference,
            problems,
            self._no_incident_values.copy(),
        )
        flagged = {problem.field for problem in problems}
        at = RowAt(self.layout, row, cells, draft.reference, problems)
        for column in self.layout.incident:
            first = draft.first_cells[column.index]
            if (
                column.header not in flagged
                and draft.incident[column.field] != values[column.field]
            ):
                at.problem(
                    column.field,
                    f"disagrees with row {draft.first_row} of incident {draft.reference}, "
                    f"which has '{first}': the rows of an incident must agree",
                )
        draft.problems += problems

    def _add_child(self, draft: IncidentDraft, row: int, cells: Cells) -> None:
        """Parse the child of a row into the draft (checking it is not already there)."""
        reference = draft.reference
        values = self._no_child_values.copy()
        self._parse(self._child_plan, cells, row, reference, draft.problems, values)
        at = RowAt(self.layout, row, cells, reference, draft.problems)
        when = draft.incident["incident.date"]
        child = self._children.make(values, when[0] if when else None, at)
        draft.rows.append(row)
        local_id = child["local_id"]
        if local_id is not None:
            seen = draft.local_ids.setdefault(local_id, row)
            if seen != row:
                at.problem(
                    "child.local_id",
                    f"child {local_id} is already in incident {reference} at row {seen}: "
                    "one row per child per incident",
                )
        if len(draft.rows) > MAX_CHILDREN:
            at.problem(
                "incident.reference", f"incident {reference} has more than {MAX_CHILDREN} children"
            )
        else:
            draft.children.append(child)
            draft.child_rows.append(row)
            draft.child_cells.append(cells)

    def _locate(self, draft: IncidentDraft, path: str, message: str) -> RowProblem:
        """A consistency problem (``children.1.date_of_death``) against its row and column."""
        parts = path.split(".")
        if parts[0] == "children" and len(parts) > 2 and parts[1].isdigit():
            index = int(parts[1])
            row, cells, field = draft.child_rows[index], draft.child_cells[index], "child."
            path = ".".join(parts[2:])
        else:
            row, cells, field = draft.first_row, draft.first_cells, ""
        at = RowAt(self.layout, row, cells, draft.reference, draft.problems)
        return at.describe(field + path, message)

    def _record(self, draft: IncidentDraft) -> dict[str, Any]:
        """The record in the loaded shape of ``IncidentRecordSchema``: every key present, dates
        as ``datetime.date``; ``source.row`` is the incident's first row (the header is row 1)."""
        values = draft.incident
        on, time = values["incident.date"] or (None, None)
        if values["incident.time"] is not None:
            time = values["incident.time"]
        return {
            "schema_version": SCHEMA_VERSION,
            "local_authority": {
                "code": values["local_authority.code"],
                "name": values["local_authority.name"],
            },
            "notifier": {
                "name": values["notifier.name"],
                "role": values["notifier.role"],
                "email": values["notifier.email"],
                "phone": values["notifier.phone"],
            },
            "incident": {
                "reference": draft.reference,
                "nature": values["incident.nature"],
                "other_rationale": values["incident.other_rationale"],
                "abuse_or_neglect": values["incident.abuse_or_neglect"],
                "date": on,
                "time": time,
                "became_aware_on": values["incident.became_aware_on"],
                "location": {
                    "description": values["incident.location.description"],
                    "postcode": values["incident.location.postcode"],
                    "in_la_area": values["incident.location.in_la_area"],
                    "outside_england_normally_resident": values[
                        "incident.location.outside_england_normally_resident"
                    ],
                },
                "setting": values["incident.setting"],
                "suicide": values["incident.suicide"],
                "historical_harm": values["incident.historical_harm"],
                "wider_risk_to_other_children": values["incident.wider_risk_to_other_children"],
                "parallel_processes": None,
                "summary": values["incident.summary"],
                "other_children_details": None,
            },
            "children": draft.children,
            "source": {
                "system": self.layout.profile.system,
                "file": self.file,
                "row": draft.first_row,
                "record_ids": [c["local_id"] for c in draft.children if c["local_id"] is not None],
            },
        }


def _plan(columns: Sequence[Column]) -> Plan:
    return tuple((c.index, c.field, c.memo, c.memo_limit, c.required, c) for c in columns)


def _getter(indexes: list[int]) -> Callable[[Cells], Any]:
    """A fast ``cells -> tuple of cells at indexes`` (``operator.itemgetter`` returns a bare
    value for one index, so that case is wrapped)."""
    if not indexes:
        return lambda cells: ()
    if len(indexes) == 1:
        only = indexes[0]
        return lambda cells: (cells[only],)
    return operator.itemgetter(*indexes)
