"""What the lifecycle events established (DESIGN.md §5, §7): the state the replay builds
(:mod:`adapter.deadlines.lifecycle`) and the obligations read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from adapter.deadlines.referrals import ReferralDecision


@dataclass(frozen=True, slots=True)
class Decision:
    """An ``lcspr_decided`` event: what was decided, when, and the reviewer commissioned."""

    on: dt.date
    decision: str
    reviewer: str | None


@dataclass(frozen=True, slots=True)
class Publication:
    """The publication date in force (the latest ``publication_scheduled``)."""

    on: dt.date
    publication_date: dt.date
    mode: str


@dataclass(frozen=True, slots=True)
class InformationRequest:
    """A ``panel_information_requested`` event (§5): when, and the date the Panel gave."""

    on: dt.date
    due: dt.date | None


@dataclass(frozen=True, slots=True)
class PublicationDecision:
    """The latest ``publication_decided`` (§8): ``full_report``, ``improvements_only``, ``none``."""

    on: dt.date
    publish: str


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What the events established, after replay; the input of the event-driven obligations."""

    rapid_review_completed_on: dt.date | None = None
    panel_response_received_on: dt.date | None = None
    decisions: tuple[Decision, ...] = ()
    publication: Publication | None = None
    delayed_on: dt.date | None = None
    """The first ``publication_delayed`` date, if any."""
    published_on: dt.date | None = None
    information_requests: tuple[InformationRequest, ...] = ()
    information_sent: tuple[dt.date, ...] = ()
    publication_decision: PublicationDecision | None = None
    withdrawn_on: dt.date | None = None
    family_informed_on: dt.date | None = None
    """The latest ``family_informed``."""
    referral: ReferralDecision | None = None

    @property
    def publishes_nothing(self) -> bool:
        """§8: the partners decided to publish neither the report nor the improvements."""
        decided = self.publication_decision
        return decided is not None and decided.publish == "none"

    @property
    def local_review(self) -> Decision | None:
        """The decision to carry out a local review, which starts the §8 6-month clock."""
        for decision in self.decisions:
            if decision.decision == "local_review":
                return decision
        return None


class Impossible(Exception):
    """Why one step of the state machine cannot happen (becomes :class:`EventRefused`)."""
