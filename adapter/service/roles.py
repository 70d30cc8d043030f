"""What each key's role may do to an incident (DESIGN.md §7).

Only a ``local_authority`` key notifies, amends and records events (§2 "Only local authorities
can submit serious incidents to the Panel"); an ``agency`` key may only refer an incident for
the safeguarding partners to consider (§3); ``admin`` and ``compliance`` keys do neither.
"""

from __future__ import annotations

from adapter.apikeys import Principal
from adapter.errors import CsinsError


class NotAllowed(CsinsError):
    """The caller's role may not do this (the API answers 403)."""


def require_submitter(principal: Principal) -> None:
    """Only LA keys notify; agency keys refer (§2, §3); admin and compliance keys do neither."""
    if principal.role not in ("local_authority", "agency"):
        raise NotAllowed(f"a '{principal.role}' key cannot submit incidents")


def require_local_authority(principal: Principal, action: str) -> None:
    """Only an LA key may ``action`` (amend incidents, record events)."""
    if principal.role != "local_authority":
        raise NotAllowed(f"only a local_authority key may {action}")
