"""Lifecycle events replayed in order, refusing the impossible ones (DESIGN.md §5, §7).

Events are ``EventSchema``-loaded dicts. They are replayed by date; events of one day in the
order the process runs (consultation, rapid review, Panel response, decision, publication), then
in the order given (two decisions or two schedules on one day). A new event is refused
(:class:`EventRefused`, naming the event and the reason) when dated before the incident or before
the local authority became aware of it. The state machine, with the paragraph behind each step::

    awaiting consultation --panel_consulted(notify)--------> notified          (§2 young adults)
    awaiting consultation --panel_consulted(do_not_notify)-> not notifiable (no further events)
    notified --rapid_review_completed--> rapid review done                      (§3)
    rapid review done --panel_response_received (once)                         (§3, §5)
    rapid review done --lcspr_decided(decision)--> decided                     (§3, §4)
    decided(local_review) --publication_scheduled (again to reschedule)--> scheduled (§8)
    decided(local_review) | scheduled --publication_delayed (repeatable)       (§8)
    scheduled --published--> published (then no publication event)              (§8)
    published after the 6-month limit --publication_delayed (its reasons owed)  (§8)

- ``panel_consulted`` only on a historical-harm case (§2), once.
- ``rapid_review_completed``, ``lcspr_decided`` and the rest only when a rapid review is owed:
  only incidents notified as serious incidents follow this process (§2); a blocked case must
  consult the Panel first (§2), and review events may not predate a ``notify`` consultation.
- ``lcspr_decided`` needs the rapid review done (§3: the rapid review decides the next steps). A
  decision may change only as the guidance says partners reconsider: ``local_review`` or
  ``no_review`` then ``national_review_recommended`` (§3: "at a later stage if ... new
  information comes to light which suggests that a national review may be appropriate"), and
  ``national_review_recommended`` or ``no_review`` then ``local_review`` (§4: "a case which the
  Panel have considered and concluded a local review may be more appropriate"; §5: the Panel
  asks whether the partners have decided to commission one). Refused: ``no_review`` after a
  review was decided (§8: a local review is published within 6 months, and the guidance has no
  way to call one off, only to recommend a national review instead, §3; a national
  recommendation is the Panel's to decide, §5, and §4 points a declined one to a local review),
  and the same decision twice (it was already told).
- ``panel_information_requested`` (§5, the Panel asks; its ``due`` optional) and
  ``further_information_sent`` (§5, allowed without a request: delivered, owing nothing).
- ``family_informed`` needs a decision (§4: the rationale "communicated ... including to
  families").
- ``publication_decided`` (§8: the full report, only the improvements, or nothing, with a
  justification) needs a ``local_review`` decision; after ``publish: none`` no publication is
  scheduled, delayed or published until a new decision; a schedule's mode follows the decision.
- ``publication_withdrawn`` needs ``published``, once (§8: available for at least one year).
- ``referral_decided`` only on an agency's referral, once (§3); until it says ``notify`` only
  the referral's local rapid review is recorded (:func:`find_referral_decision`).
- Publication events need a ``local_review`` decision (still owed if a national review is later
  recommended, until the Panel takes the case): the 6-month clock runs from the decision to
  initiate a review (§8); a publication date may not precede the day it was set.

The checks that depend on the record (dates against the incident's, the consultation only for
historical harm, review events only for a notified serious incident) refuse new events only:
events recorded before an amendment stay recorded, with a warning (:class:`EventChecks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from adapter import catalogue
from adapter.deadlines.calendar import add_calendar_months
from adapter.deadlines.later_steps import (
    family_informed,
    further_information_sent,
    panel_information_requested,
    publication_decided,
    publication_open,
    publication_withdrawn,
    publishing,
)
from adapter.deadlines.referrals import ReferralDecision, find_referral_decision, referral_gate
from adapter.deadlines.refusals import EventChecks, refuse
from adapter.deadlines.state import (
    Decision,
    Impossible,
    InformationRequest,
    Lifecycle,
    Publication,
    PublicationDecision,
)
from adapter.rules import ANOTHER_LA_NOTIFIES, PanelConsultation

PUBLICATION_MONTHS = catalogue.entry("publication").due.count
"""§8: published "no later than 6 months from the date of the decision to initiate a review"
(the catalogue's ``publication`` row)."""

_ALLOWED_DECISION_CHANGES = frozenset(
    {
        ("local_review", "national_review_recommended"),  # §3 "at a later stage"
        ("no_review", "national_review_recommended"),  # §3 "new information comes to light"
        ("national_review_recommended", "local_review"),  # §4 Panel concluded a local review
        ("no_review", "local_review"),  # §4 Panel concluded a local review; §5 it may ask
    }
)


_SAME_DAY_ORDER = {
    kind: rank
    for rank, kind in enumerate(
        (
            "panel_consulted",
            "referral_decided",
            "rapid_review_completed",
            "panel_response_received",
            "panel_information_requested",
            "further_information_sent",
            "lcspr_decided",
            "family_informed",
            "publication_decided",
            "publication_scheduled",
            "publication_delayed",
            "published",
            "publication_withdrawn",
        )
    )
}
"""Events carry dates, not times: on one day they are taken in the order the process runs."""


def ordered(events: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    """Events with their original index, by date, then by lifecycle step, then as given."""
    return sorted(
        enumerate(events), key=lambda pair: (pair[1]["on"], _SAME_DAY_ORDER[pair[1]["type"]])
    )


def review_begun(
    events: Sequence[tuple[int, Mapping[str, Any]]], checks: EventChecks
) -> dt.date | None:
    """The date of the rapid review recorded before (§3), if any: the incident was then notified
    as a serious incident and its review process has begun (see :func:`adapter.rules.classify`)."""
    for index, event in events:
        if checks.is_recorded(index) and event["type"] == "rapid_review_completed":
            on: dt.date = event["on"]
            return on
    return None


def find_consultation(
    record: Mapping[str, Any],
    events: Sequence[tuple[int, Mapping[str, Any]]],
    checks: EventChecks | None = None,
) -> PanelConsultation | None:
    """The ``panel_consulted`` event, checked: historical harm only (§2), at most once; every
    event's date checked against the incident's (see :class:`EventChecks`)."""
    checks = EventChecks() if checks is None else checks
    incident = record["incident"]
    found: PanelConsultation | None = None
    for index, event in events:
        if event["on"] < incident["date"]:
            checks.fail(index, event, f"before the incident date {incident['date'].isoformat()}")
        elif event["on"] < incident["became_aware_on"]:
            checks.fail(
                index,
                event,
                "before the local authority became aware of the incident "
                f"({incident['became_aware_on'].isoformat()})",
            )
        if event["type"] != "panel_consulted":
            continue
        if found is not None:
            raise refuse(index, event, f"the Panel was already consulted on {found.on}")
        if not incident.get("historical_harm") and not checks.is_recorded(index):
            # A recorded one is kept: classify warns that the ordinary rows apply.
            raise refuse(
                index,
                event,
                "the Panel is consulted before notifying only about a "
                "young adult's historical harm (§2), and this incident is not one",
            )
        found = PanelConsultation(event["on"], event["outcome"])
    return found


def replay(
    events: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    rapid_review_required: bool,
    blocked_reason: str | None,
    review_from: dt.date | None,
    checks: EventChecks | None = None,
    referral: bool = False,
    referral_decided: ReferralDecision | None = None,
) -> Lifecycle:
    """Apply the state machine of the module docstring; ``events`` as :func:`ordered` gives them.

    ``review_from`` is the date the review process starts when the Panel was consulted first.
    The state machine itself applies to every event; what depends on the record is checked by
    ``checks`` (recorded events are kept).
    """
    checks = EventChecks() if checks is None else checks
    state = Lifecycle(referral=referral_decided)
    for index, event in events:
        kind = event["type"]
        if kind in ("panel_consulted", "referral_decided"):
            continue  # checked by find_consultation, find_referral_decision: they classify
        gate = referral_gate(event, referral, referral_decided)
        if gate is not None:
            checks.fail(index, event, gate)
        elif not (referral and _before_notified(event, referral_decided)):
            reason = _outside_review(event, rapid_review_required, blocked_reason, review_from)
            if reason is not None:
                checks.fail(index, event, reason)
        try:
            state = _STEPS[kind](state, event)
        except Impossible as impossible:
            raise refuse(index, event, str(impossible)) from None
    return state


def _before_notified(event: Mapping[str, Any], referral_decided: ReferralDecision | None) -> bool:
    """Whether a referral's ``event`` comes before the partners decided to notify it: the
    referral's own rapid review (§3 "all cases raised ... by partner organisations")."""
    return (
        referral_decided is None
        or referral_decided.decision != "notify"
        or event["on"] < referral_decided.on
    )


def _outside_review(
    event: Mapping[str, Any],
    rapid_review_required: bool,
    blocked_reason: str | None,
    review_from: dt.date | None,
) -> str | None:
    """Why the record says ``event`` is not part of the incident's review process, if it is
    not: another LA's incident, a consultation still owed, no serious incident notified, or a
    date before the Panel was consulted (§2)."""
    if blocked_reason == ANOTHER_LA_NOTIFIES:
        return (
            "the incident happened in another local authority's area, which notifies the "
            "Panel and follows the review process (§2 'the local authority where the "
            "incident occurred')"
        )
    if blocked_reason is not None:
        return (
            "the Panel must be consulted about a young adult's historical harm before "
            "anything else (§2)"
        )
    if not rapid_review_required:
        return (
            "only an incident notified as a serious incident follows the review process "
            "(§2), and this one is not"
        )
    if review_from is not None and event["on"] < review_from:
        return f"before the Panel was consulted ({review_from}, §2)"
    return None


def _rapid_review_completed(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if state.rapid_review_completed_on is not None:
        raise Impossible(
            f"the rapid review was already completed on {state.rapid_review_completed_on}"
        )
    return replace(state, rapid_review_completed_on=event["on"])


def _panel_response_received(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if state.rapid_review_completed_on is None:
        raise Impossible("the Panel responds to a rapid review (§3), and none has been completed")
    if state.panel_response_received_on is not None:
        raise Impossible(
            f"the Panel's response was already received on {state.panel_response_received_on}"
        )
    return replace(state, panel_response_received_on=event["on"])


def _lcspr_decided(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if state.rapid_review_completed_on is None:
        raise Impossible("the decision follows the rapid review (§3), and none has been completed")
    decision = event["decision"]
    for earlier in state.decisions:
        if earlier.decision == decision:
            raise Impossible(f"'{decision}' was already decided on {earlier.on}")
    if state.decisions:
        previous = state.decisions[-1]
        if (previous.decision, decision) not in _ALLOWED_DECISION_CHANGES:
            raise Impossible(
                f"conflicts with the decision '{previous.decision}' of {previous.on}; a "
                "decision changes only to recommend a national review (§3) or to carry out "
                "a local review (§4), never from a review decided to no review"
            )
    decided = Decision(event["on"], decision, event.get("reviewer"))
    return replace(state, decisions=(*state.decisions, decided))


def _publication_scheduled(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    publication_open(state)
    publishing(state, event["mode"])
    if event["publication_date"] < event["on"]:
        raise Impossible(
            f"the publication date {event['publication_date']} is before the day it was set"
        )
    scheduled = Publication(event["on"], event["publication_date"], event["mode"])
    return replace(state, publication=scheduled)


def _publication_delayed(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if not _published_late(state):
        publication_open(state)
        publishing(state, None)
    # §8: "inform the Panel and the Secretary of State of the reasons for the delay": after a
    # publication past the limit they are still owed, and this event is what records them.
    return state if state.delayed_on is not None else replace(state, delayed_on=event["on"])


def _published_late(state: Lifecycle) -> bool:
    """Whether the report was published after the §8 limit, 6 months from the local review."""
    decided = state.local_review
    return (
        state.published_on is not None
        and decided is not None
        and state.published_on > add_calendar_months(decided.on, PUBLICATION_MONTHS)
    )


def _published(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    publication_open(state)
    publishing(state, None)
    if state.publication is None:
        raise Impossible(
            "no publication_scheduled before it: the Panel, the Secretary of State and "
            "Ofsted must receive the report 7 working days before publication (§8)"
        )
    return replace(state, published_on=event["on"])


__all__ = [
    "Decision",
    "EventChecks",
    "InformationRequest",
    "Lifecycle",
    "Publication",
    "PublicationDecision",
    "ReferralDecision",
    "find_consultation",
    "find_referral_decision",
    "ordered",
    "replay",
    "review_begun",
]

_STEPS: dict[str, Callable[[Lifecycle, Mapping[str, Any]], Lifecycle]] = {
    "rapid_review_completed": _rapid_review_completed,
    "panel_response_received": _panel_response_received,
    "lcspr_decided": _lcspr_decided,
    "publication_scheduled": _publication_scheduled,
    "publication_delayed": _publication_delayed,
    "published": _published,
    "publication_decided": publication_decided,
    "publication_withdrawn": publication_withdrawn,
    "family_informed": family_informed,
    "panel_information_requested": panel_information_requested,
    "further_information_sent": further_information_sent,
}
