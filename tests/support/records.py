"""Parts of an incident record that the tests' factories and ``bench/plan.py`` share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

LOCAL_AUTHORITY: dict[str, Any] = {"code": "812", "name": "North East Lincolnshire"}
"""The LA the sample records come from (copy it before changing it)."""

NOTIFIER: dict[str, Any] = {
    "name": "A. Officer",
    "role": "Head of Safeguarding",
    "email": "a@la.gov.uk",
    "phone": "01472 000000",
}
"""Who notifies for the sample LA (copy it before changing it)."""


def nature_of(outcomes: Iterable[str]) -> str:
    """The nature the children's outcomes make an incident, as a case system would fill it in:
    any death a death, else any serious (or unknown) harm serious harm, else ``other``."""
    found = set(outcomes)
    if "died" in found:
        return "death"
    return "serious_harm" if found & {"seriously_harmed", "unknown"} else "other"
