"""Cases raised by partner agencies (§3, Appendix 1 "SCSI 1"; DESIGN.md §4): the partners'
decision on a referral, and what may be recorded before it.

A referral owes the partners' decision and a local rapid review; until ``referral_decided`` says
``notify`` only that rapid review is recorded, and after ``do_not_notify`` it stays so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adapter.deadlines.refusals import EventChecks, refuse


@dataclass(frozen=True, slots=True)
class ReferralDecision:
    """The ``referral_decided`` event on an agency's referral (§3): notify or do_not_notify."""

    on: dt.date
    decision: str


def find_referral_decision(
    record: Mapping[str, Any],
    events: Sequence[tuple[int, Mapping[str, Any]]],
    checks: EventChecks | None = None,
) -> ReferralDecision | None:
    """The ``referral_decided`` event, checked: only on an agency's referral (§3), once, not
    before the referral was received. One recorded before an amendment that dropped the
    referral stays recorded, with a warning (:class:`EventChecks`)."""
    checks = EventChecks() if checks is None else checks
    referral = record.get("referral")
    found: ReferralDecision | None = None
    for index, event in events:
        if event["type"] != "referral_decided":
            continue
        if not referral:
            checks.fail(
                index,
                event,
                "this record is not an agency's referral: the partners decide on a case "
                "raised by a partner organisation (§3), and this one was notified by the "
                "local authority",
            )
            continue
        if found is not None:
            raise refuse(index, event, f"the referral was already decided on {found.on}")
        if event["on"] < referral["received_on"]:
            raise refuse(
                index,
                event,
                f"before the referral was received ({referral['received_on'].isoformat()})",
            )
        found = ReferralDecision(event["on"], event["decision"])
    return found


def referral_gate(
    event: Mapping[str, Any], referral: bool, decided: ReferralDecision | None
) -> str | None:
    """Why an event cannot be recorded yet on an agency's referral (§3), if it cannot: until
    the partners decide to notify, only the referral's rapid review is recorded."""
    if not referral or event["type"] == "rapid_review_completed":
        return None
    if decided is None or event["on"] < decided.on:
        return (
            "an agency's referral is decided first (referral_decided, §3): until the "
            "safeguarding partners decide to notify it, only its rapid review is recorded"
        )
    if decided.decision == "do_not_notify":
        return (
            f"the safeguarding partners decided on {decided.on} not to notify this referral: "
            "only its local rapid review is recorded, never sent to the Panel (§2, §3)"
        )
    return None
