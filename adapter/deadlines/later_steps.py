"""The steps of the second reading's events (DESIGN.md §7): further information (§5), the
family told the rationale (§4), the publication decision and a withdrawal (§8). Each takes the
state and an event and returns the new state, or raises :class:`Impossible` saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from adapter.deadlines.state import Impossible, InformationRequest, Lifecycle, PublicationDecision


def publishing(state: Lifecycle, mode: str | None) -> None:
    """§8: what is scheduled or published follows the publication decision in force."""
    decided = state.publication_decision
    if decided is None:
        return
    if decided.publish == "none":
        raise Impossible(
            f"the partners decided on {decided.on} to publish nothing (publication_decided, "
            "publish 'none', §8): record a new publication_decided first"
        )
    if mode is not None and mode != decided.publish:
        raise Impossible(
            f"the mode '{mode}' is not what the partners decided on {decided.on} "
            f"('{decided.publish}', §8): record a new publication_decided first"
        )


def publication_decided(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    publication_open(state)
    decided = PublicationDecision(event["on"], event["publish"])
    return replace(state, publication_decision=decided)


def publication_withdrawn(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if state.published_on is None:
        raise Impossible("nothing has been published to withdraw (§8)")
    if state.withdrawn_on is not None:
        raise Impossible(f"the publication was already withdrawn on {state.withdrawn_on}")
    return replace(state, withdrawn_on=event["on"])


def family_informed(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    if not state.decisions:
        raise Impossible(
            "the family is told the rationale of a decision on whether to review (§4), and "
            "none has been recorded (lcspr_decided)"
        )
    return replace(state, family_informed_on=event["on"])


def panel_information_requested(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    due = event.get("due")
    if due is not None and due < event["on"]:
        raise Impossible(f"the Panel's date {due} is before the day it asked")
    asked = InformationRequest(event["on"], due)
    return replace(state, information_requests=(*state.information_requests, asked))


def further_information_sent(state: Lifecycle, event: Mapping[str, Any]) -> Lifecycle:
    # §5 "as requested"; sent unasked, it is delivered to the Panel and owes nothing.
    return replace(state, information_sent=(*state.information_sent, event["on"]))


def publication_open(state: Lifecycle) -> None:
    if state.published_on is not None:
        raise Impossible(f"the report was already published on {state.published_on}")
    if state.local_review is None:
        raise Impossible(
            "publication follows a decision to carry out a local review (§8), and no "
            "'local_review' has been decided"
        )
