"""The obligations of the guidance's second reading (DESIGN.md §4, §5): referrals (§3), the
family (§4), further information for the Panel (§5), the publication decision and how long a
published report stays available (§8). Each reads its addressees and due rule from the
catalogue (:mod:`adapter.rules.catalogue`); :func:`adapter.deadlines.obligations.derive_obligations`
gathers them with the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from adapter.deadlines.calendar import WorkingDayCalendar
from adapter.deadlines.lifecycle import Lifecycle
from adapter.deadlines.obligations import DECISION_LABELS, Obligation, each, owe, reckon
from adapter.rules import catalogue
from adapter.rules.ages import years_later
from config.settings import Policy


def referral(
    received_on: dt.date | None, lifecycle: Lifecycle, calendar: WorkingDayCalendar
) -> Iterator[Obligation]:
    """§3: the partners decide on an agency's referral, and review it rapidly, locally; once
    they notify it, the Panel's rapid review (from the classification) replaces the local one."""
    if received_on is None:
        return
    decided = lifecycle.referral
    yield from owe(
        catalogue.entry("referral_decision"),
        received_on,
        "referral received",
        "referral_received",
        calendar,
        None,
        None if decided is None else decided.on,
    )
    if decided is None or decided.decision != "notify":
        yield from owe(
            catalogue.entry("rapid_review", "referral"),
            received_on,
            "referral received",
            "referral_received",
            calendar,
            None,
            lifecycle.rapid_review_completed_on,
        )


def rationale_to_family(
    lifecycle: Lifecycle, calendar: WorkingDayCalendar, policy: Policy
) -> Iterator[Obligation]:
    """§4: the rationale of the latest decision on whether to review, communicated to the
    family; met by ``family_informed`` on or after that decision."""
    if not lifecycle.decisions:
        return
    latest = lifecycle.decisions[-1]
    informed = lifecycle.family_informed_on
    yield from owe(
        catalogue.entry("decision_rationale_to_family"),
        latest.on,
        DECISION_LABELS[latest.decision],
        "lcspr_decided",
        calendar,
        policy,
        informed if informed is not None and informed >= latest.on else None,
    )


def further_information(lifecycle: Lifecycle, calendar: WorkingDayCalendar) -> Iterator[Obligation]:
    """§5 "The safeguarding partners must share further information with the Panel as
    requested": by the Panel's date, else the catalogue's period. A sending answers every
    request made on or before its day; the earliest unanswered request is what is owed."""
    requests = lifecycle.information_requests
    if not requests:
        return
    sent = lifecycle.information_sent
    unanswered = [asked for asked in requests if not any(on >= asked.on for on in sent)]
    asked = unanswered[0] if unanswered else requests[-1]
    answered = None if unanswered else min(on for on in sent if on >= asked.on)
    row = catalogue.entry("further_information")
    if asked.due is not None:
        due, explanation = asked.due, f"the date the Panel gave when it asked on {asked.on}"
    else:
        due, explanation = reckon(row, asked.on, "the Panel asked", calendar, None)
    yield from each(
        row,
        row.addressees,
        due,
        explanation,
        "panel_information_requested",
        asked.on,
        answered,
    )


def publication_justification(
    lifecycle: Lifecycle, calendar: WorkingDayCalendar
) -> Iterator[Obligation]:
    """§8: "the justification for any decision not to publish either the full report or
    information relating to improvements", to the Panel and the Secretary of State."""
    decided = lifecycle.publication_decision
    if decided is None or decided.publish == "full_report":
        return
    label = (
        "publication decided: nothing published"
        if decided.publish == "none"
        else "publication decided: only the improvements"
    )
    yield from owe(
        catalogue.entry("publication_justification"),
        decided.on,
        label,
        "publication_decided",
        calendar,
        None,
    )


def publication_availability(lifecycle: Lifecycle) -> Iterator[Obligation]:
    """§8 "Published reports or information must be publicly available for at least one
    year": due the day it may come down, met when that day comes without a withdrawal; a
    ``publication_withdrawn`` before it is a breach, due (and overdue) from the day before."""
    published = lifecycle.published_on
    if published is None:
        return
    row = catalogue.entry("publication_availability")
    until = years_later(published, row.due.count)
    withdrawn = lifecycle.withdrawn_on
    explanation = f"{row.due} {published.isoformat()} (published): available until {until}"
    if withdrawn is not None and withdrawn < until:
        breach = max(published, withdrawn - dt.timedelta(days=1))
        yield from each(
            row,
            row.addressees,
            breach,
            f"{explanation}; withdrawn on {withdrawn.isoformat()}, before then: a breach of "
            "§8 (publicly available for at least one year)",
            "publication_withdrawn",
            withdrawn,
        )
        return
    yield from each(row, row.addressees, until, explanation, "published", published, until)
