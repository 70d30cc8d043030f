"""The child of one export row, in the record's shape (DESIGN.md §3, §3.1).

Most child fields are copied from their column; the rest are derived, not copied: a plan or care
episode counts when it was open on the incident date (start on or before it, end blank or after
it), a Mosaic birth date after the incident means the child was unborn (elsewhere the date is
kept: a child harmed before birth and born since), and the identity is known when the row carries
a person id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from adapter.importers.layout import Layout
from adapter.importers.results import RowProblem
from adapter.importers.values import open_on

EPISODES = ("child.looked_after", "child.child_in_need_plan", "child.child_protection_plan")
"""Plans and care episodes, each with ``.start_date`` and ``.end_date`` input fields."""


@dataclass(slots=True)
class RowAt:
    """One row being read, and where its problems go."""

    layout: Layout
    row: int
    cells: Sequence[str]
    reference: str | None
    problems: list[RowProblem]

    def problem(self, field: str, message: str) -> None:
        """Add a problem with the cell of ``field`` to the row's problems."""
        self.problems.append(self.describe(field, message))

    def describe(self, field: str, message: str) -> RowProblem:
        """A problem with the cell of ``field``, its column named as the export names it."""
        column = self.layout.by_field.get(field)
        value = self.cells[column.index] if column is not None else None
        return RowProblem(self.row, self.layout.header(field), value, message, self.reference)


class ChildMaker:
    """Makes children for one layout: which episodes the export has, how a late birth reads."""

    def __init__(self, layout: Layout) -> None:
        self._episodes = {
            prefix: (f"{prefix}.start_date", f"{prefix}.end_date")
            for prefix in EPISODES
            if layout.has(f"{prefix}.start_date")
        }
        self._birth_after_incident = layout.profile.birth_date_after_incident
        self._has_care_leaver = layout.has("child.care_leaver")

    def make(self, values: dict[str, Any], on: dt.date | None, at: RowAt) -> dict[str, Any]:
        """The child whose ``child.*`` input fields are ``values`` (``None`` when blank or
        absent), for an incident on ``on``."""
        born = values["child.date_of_birth"]
        estimated = values["child.date_of_birth_estimated"]
        unborn = None if born is None else False
        if born is not None and on is not None and born > on:
            if self._birth_after_incident == "unborn":
                born, estimated, unborn = None, None, True
            elif self._birth_after_incident == "error":
                at.problem(
                    "child.date_of_birth",
                    f"{born.isoformat()} is after the incident date {on.isoformat()}: expected "
                    "a date of birth on or before the incident date (this export's profile "
                    "sets birth_date_after_incident: error)",
                )
            # "keep": born after the incident (harmed before birth); a date after today is
            # refused by the record's own rule (schemas.consistency.future_dates).
        looked_after = self._open(values, "child.looked_after", on, at)
        care_leaver = values["child.care_leaver"]
        if care_leaver is None and self._has_care_leaver:
            care_leaver = False  # a blank cell in a column the export has means "no"
        local_id = values["child.local_id"]
        return {
            "identity_known": local_id is not None,
            "local_id": local_id,
            "upn": values["child.upn"],
            "nhs_number": values["child.nhs_number"],
            "forenames": values["child.forenames"],
            "surname": values["child.surname"],
            "date_of_birth": born,
            "date_of_birth_estimated": estimated,
            "age_years": values["child.age_years"],
            "unborn": unborn,
            "sex": values["child.sex"],
            "ethnicity": values["child.ethnicity"],
            "disability": values["child.disability"],
            "looked_after": looked_after,
            "placement_type": values["child.placement_type"] if looked_after else None,
            "care_leaver": care_leaver,
            "child_in_need_plan": self._open(values, "child.child_in_need_plan", on, at),
            "child_protection_plan": self._protection_plan(values, on, at),
            "known_to_childrens_social_care": values["child.known_to_childrens_social_care"],
            "known_to_agencies": None,
            "outcome": values["child.outcome"],
            "date_of_death": values["child.date_of_death"],
            "harm_description": values["child.harm_description"],
        }

    def _protection_plan(
        self, values: dict[str, Any], on: dt.date | None, at: RowAt
    ) -> dict[str, Any] | None:
        prefix = "child.child_protection_plan"
        if prefix not in self._episodes:
            return None
        active = self._open(values, prefix, on, at)
        start, category = values[f"{prefix}.start_date"], values[f"{prefix}.category"]
        if start is None and category is not None:
            active = None  # a category without a start date: whether it was open is not known
        return {"active": active, "category": category, "start_date": start}

    def _open(
        self, values: dict[str, Any], prefix: str, on: dt.date | None, at: RowAt
    ) -> bool | None:
        """Whether the plan or episode was open on the incident date; ``None`` when not known
        (the export has no such column, or an end without a start)."""
        fields = self._episodes.get(prefix)
        if fields is None:
            return None
        start, end = values[fields[0]], values[fields[1]]
        if start is None:
            return None if end is not None else False
        if end is not None and end < start:
            at.problem(fields[1], f"is before the start date {start.isoformat()}")
        return None if on is None else open_on(on, start, end)
