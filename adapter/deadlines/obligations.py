"""Every obligation of DESIGN.md §5: which document, to whom, due when, and why that day.

An :class:`Obligation` is one document owed to one addressee (or, for ``panel_response``, expected
from the Panel; for ``publication``, owed to the public). Its ``explanation`` names the trigger
and every bank holiday or closure skipped, e.g. ``5 working days after 2026-12-21 (became aware),
skipping 2026-12-25 Christmas Day and 2026-12-28 Boxing Day (observed)``.

``(document, addressee)`` is unique within one incident's obligations, so the service can key its
rows on it: a rescheduled publication moves the copies, and after a changed review decision each
addressee is owed the latest decision that concerns it.

Events that satisfy an obligation set ``satisfied_on`` (``published`` satisfies ``publication``;
``panel_response_received`` satisfies ``panel_response``). Outbound documents are satisfied by
their delivery, which the service records with :meth:`Obligation.acknowledged`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from adapter.deadlines.calendar import WorkingDayCalendar, WorkingDaySum, calendar_for
from adapter.deadlines.lifecycle import PUBLICATION_MONTHS, Decision, Lifecycle, Publication
from adapter.deadlines.status import DeadlineStatus, deadline_status, start_of_day
from adapter.rules import Classification, Notification
from config.settings import Policy
from schemas import codes

NOTIFICATION_WORKING_DAYS = 5
"""§2: the Panel is notified "within five working days" of becoming aware."""

RAPID_REVIEW_WORKING_DAYS = 15
"""§3: the rapid review is completed "within 15 working days" of becoming aware."""

PANEL_RESPONSE_WORKING_DAYS = 15
"""§3: the Panel aims to respond "within 15 working days of a rapid review being received"."""

PRE_PUBLICATION_WORKING_DAYS = 7
"""§8: the report or improvements information "no later than 7 working days before" publication."""

PUBLIC = "public"
"""The addressee of ``publication``: the report is published, not delivered."""

KINDS = {
    "incident_notification": "statutory",  # §2 "must notify"
    "looked_after_child_death_notification": "policy",  # §2 gives no period
    "care_leaver_death_notification": "policy",  # §2 gives no period
    "rapid_review": "statutory",  # §3
    "panel_response": "expectation",  # §3 "will aim to respond"
    "lcspr_decision": "policy",  # §3, §4 "as soon as"
    "final_report": "statutory",  # §8
    "improvements_information": "statutory",  # §8
    "publication": "statutory",  # §8
    "publication_delay_notice": "statutory",  # §8
}

DECISION_ADDRESSEES = {
    # §3, §4: "As soon as they have determined that a local review will be carried out, ...
    # inform the Panel, Ofsted and DfE, including the name of any reviewer".
    "local_review": ("panel", "ofsted", "dfe"),
    # §3: "They should also share with the Panel their decision about whether a local ...
    # review is appropriate, or whether ... a national review may be appropriate": the Panel only.
    "no_review": ("panel",),
    "national_review_recommended": ("panel",),
}

PRE_PUBLICATION_DOCUMENTS = {
    "full_report": "final_report",
    "improvements_only": "improvements_information",
}
PRE_PUBLICATION_ADDRESSEES = ("panel", "secretary_of_state", "ofsted")
"""§8: the Panel and the Secretary of State ("must"), Ofsted ("should"), the same timescale."""

DELAY_NOTICE_ADDRESSEES = ("panel", "secretary_of_state")
"""§8: "inform the Panel and the Secretary of State of the reasons for the delay"."""

_TRIGGER_LABELS = {
    "became_aware_on": "became aware",
    "panel_consulted": "Panel consulted",
    "date_of_death": "the child's death, which came after the local authority became aware",
    "rapid_review_delivered": "rapid review delivered",
    "rapid_review_completed": "rapid review completed; delivery date not known, taken as the "
    "completion date",
    "publication_scheduled": "publication date",
}
_DECISION_LABELS = {
    "local_review": "local review decided",
    "no_review": "no review decided",
    "national_review_recommended": "national review recommended",
}
_DOCUMENT_ORDER = {name: position for position, name in enumerate(codes.DOCUMENTS)}
_ADDRESSEE_ORDER = {name: position for position, name in enumerate((*codes.ADDRESSEES, PUBLIC))}


@dataclass(frozen=True, slots=True)
class Obligation:
    """One document owed to (or expected from) one addressee by the end of ``due``."""

    document: str
    addressee: str
    due: dt.date
    kind: str
    explanation: str
    trigger: str
    """What started the clock: ``became_aware_on``, ``panel_consulted``, an event type, or
    ``rapid_review_delivered``."""
    trigger_on: dt.date
    satisfied_on: dt.date | None = None
    """The day an event satisfied it (``published``, ``panel_response_received``)."""
    acknowledged_at: dt.datetime | None = None
    """When the addressee acknowledged the delivery (attached by the service)."""

    def acknowledged(self, at: dt.datetime) -> Obligation:
        """A copy recording the addressee's acknowledgement (an aware datetime)."""
        return replace(self, acknowledged_at=at)

    def status(self, now: dt.datetime, policy: Policy) -> DeadlineStatus:
        """``pending``, ``due_soon``, ``overdue``, ``met`` or ``met_late`` at ``now`` (§5)."""
        done = self.acknowledged_at
        if done is None and self.satisfied_on is not None:
            done = start_of_day(self.satisfied_on)
        return deadline_status(
            self.due,
            now,
            done,
            calendar=calendar_for(policy),
            due_soon_working_days=policy.due_soon_working_days,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The ``plan`` JSON form (DESIGN.md §7), plus ``trigger`` and ``satisfied_on``."""
        return {
            "document": self.document,
            "addressee": self.addressee,
            "due": self.due.isoformat(),
            "kind": self.kind,
            "explanation": self.explanation,
            "trigger": self.trigger,
            "satisfied_on": None if self.satisfied_on is None else self.satisfied_on.isoformat(),
        }


def derive_obligations(
    classification: Classification,
    lifecycle: Lifecycle,
    calendar: WorkingDayCalendar,
    policy: Policy,
    *,
    rapid_review_delivered_on: dt.date | None = None,
    today: dt.date | None = None,
) -> tuple[Obligation, ...]:
    """Every obligation the classification and the events create, by due date (DESIGN.md §5).

    ``today`` (Europe/London) adds what the passing of time alone makes owed: the delay notice
    once the publication limit has passed with nothing published (§8).
    """
    found = [
        *_notifications(classification.documents, calendar, policy),
        *_panel_response(lifecycle, calendar, rapid_review_delivered_on),
        *_decisions(lifecycle.decisions, calendar, policy),
        *_publication(lifecycle, calendar, today),
    ]
    found.sort(key=lambda o: (o.due, _DOCUMENT_ORDER[o.document], _ADDRESSEE_ORDER[o.addressee]))
    return tuple(found)


def _each(
    document: str,
    addressees: Iterable[str],
    due: dt.date,
    explanation: str,
    trigger: str,
    trigger_on: dt.date,
    satisfied_on: dt.date | None = None,
) -> Iterator[Obligation]:
    kind = KINDS[document]
    for addressee in addressees:
        yield Obligation(
            document, addressee, due, kind, explanation, trigger, trigger_on, satisfied_on
        )


def _notifications(
    documents: Iterable[Notification], calendar: WorkingDayCalendar, policy: Policy
) -> Iterator[Obligation]:
    for notification in documents:
        if notification.document == "incident_notification":
            days = NOTIFICATION_WORKING_DAYS
        elif notification.document == "rapid_review":
            days = RAPID_REVIEW_WORKING_DAYS
        else:
            days = policy.death_notification_working_days
        reckoned = calendar.add_working_days(notification.trigger_on, days)
        yield from _each(
            notification.document,
            notification.addressees,
            reckoned.result,
            explain(reckoned, _TRIGGER_LABELS[notification.trigger]),
            notification.trigger,
            notification.trigger_on,
        )


def _panel_response(
    lifecycle: Lifecycle, calendar: WorkingDayCalendar, delivered_on: dt.date | None
) -> Iterator[Obligation]:
    """§3: the Panel aims to respond within 15 working days of receiving the rapid review."""
    completed = lifecycle.rapid_review_completed_on
    if completed is None:
        return
    trigger, start = (
        ("rapid_review_delivered", delivered_on)
        if delivered_on is not None
        else ("rapid_review_completed", completed)
    )
    reckoned = calendar.add_working_days(start, PANEL_RESPONSE_WORKING_DAYS)
    yield from _each(
        "panel_response",
        ("panel",),
        reckoned.result,
        explain(reckoned, _TRIGGER_LABELS[trigger]),
        trigger,
        start,
        lifecycle.panel_response_received_on,
    )


def _decisions(
    decisions: Iterable[Decision], calendar: WorkingDayCalendar, policy: Policy
) -> Iterator[Obligation]:
    """§3, §4: each addressee is owed the latest decision that concerns it (one per addressee)."""
    latest: dict[str, Obligation] = {}
    for decision in decisions:
        reckoned = calendar.add_working_days(decision.on, policy.review_decision_working_days)
        for owed in _each(
            "lcspr_decision",
            DECISION_ADDRESSEES[decision.decision],
            reckoned.result,
            explain(reckoned, _DECISION_LABELS[decision.decision]),
            "lcspr_decided",
            decision.on,
        ):
            latest[owed.addressee] = owed
    yield from latest.values()


def _publication(
    lifecycle: Lifecycle, calendar: WorkingDayCalendar, today: dt.date | None
) -> Iterator[Obligation]:
    """§8: publication within 6 months of the decision, copies 7 working days before, delays."""
    decided = lifecycle.local_review
    if decided is None:
        return
    limit = calendar.add_months(decided.on, PUBLICATION_MONTHS)
    limit_explained = (
        f"{PUBLICATION_MONTHS} months from {decided.on.isoformat()} "
        f"({_DECISION_LABELS['local_review']})"
    )
    if limit.day != decided.on.day:
        limit_explained += f", clamped to the month's last day {limit.isoformat()}"
    yield from _each(
        "publication",
        (PUBLIC,),
        limit,
        limit_explained,
        "lcspr_decided",
        decided.on,
        lifecycle.published_on,
    )

    scheduled = lifecycle.publication
    if scheduled is not None:
        yield from _copies(scheduled, lifecycle.published_on, calendar)
    yield from _delay_notice(lifecycle, limit, limit_explained, today)


def _copies(
    scheduled: Publication, published_on: dt.date | None, calendar: WorkingDayCalendar
) -> Iterator[Obligation]:
    """§8: the report or improvements information "no later than 7 working days before the date
    of publication": the date scheduled, or the day it was published when that came earlier."""
    trigger, trigger_on, publication_date = (
        "publication_scheduled",
        scheduled.on,
        scheduled.publication_date,
    )
    label = _TRIGGER_LABELS[trigger]
    if published_on is not None and published_on < scheduled.publication_date:
        trigger, trigger_on, publication_date = "published", published_on, published_on
        label = f"published, before the date scheduled {scheduled.publication_date.isoformat()}"
    reckoned = calendar.subtract_working_days(publication_date, PRE_PUBLICATION_WORKING_DAYS)
    yield from _each(
        PRE_PUBLICATION_DOCUMENTS[scheduled.mode],
        PRE_PUBLICATION_ADDRESSEES,
        reckoned.result,
        explain(reckoned, label),
        trigger,
        trigger_on,
    )


def _delay_notice(
    lifecycle: Lifecycle, limit: dt.date, limit_explained: str, today: dt.date | None
) -> Iterator[Obligation]:
    """§8: the reasons for a delay go to the Panel and the Secretary of State, by the limit, once
    publication falls after it: scheduled after it, a delay recorded, published after it, or the
    limit passed (``today`` is after it) with nothing published."""
    scheduled = lifecycle.publication
    causes: list[tuple[dt.date, str, str]] = []  # why a delay notice is owed (§8): when, event, why
    decided = lifecycle.local_review
    if today is not None and today > limit and lifecycle.published_on is None and decided:
        causes.append(
            (decided.on, "lcspr_decided", f"the limit passed on {limit.isoformat()} unpublished")
        )
    if scheduled is not None and scheduled.publication_date > limit:
        causes.append(
            (
                scheduled.on,
                "publication_scheduled",
                f"publication scheduled for {scheduled.publication_date.isoformat()} falls "
                "after it",
            )
        )
    if lifecycle.delayed_on is not None:
        causes.append(
            (
                lifecycle.delayed_on,
                "publication_delayed",
                f"publication delayed on {lifecycle.delayed_on.isoformat()}",
            )
        )
    if lifecycle.published_on is not None and lifecycle.published_on > limit:
        causes.append(
            (
                lifecycle.published_on,
                "published",
                f"published after it, on {lifecycle.published_on.isoformat()}",
            )
        )
    if not causes:
        return
    causes.sort()  # the reasons in the order they arose
    first_on, first_trigger, _ = causes[0]
    reasons = " and ".join(reason for _, _, reason in causes)
    if lifecycle.delayed_on is None:
        # §8 asks for "the reasons for the delay": the notice carries a publication_delayed
        # event's reasons, so it is owed, and sent, once the LA records them.
        reasons += "; sent with the reasons once a publication_delayed event records them"
    yield from _each(
        "publication_delay_notice",
        DELAY_NOTICE_ADDRESSEES,
        limit,
        f"by the publication limit, {limit_explained}: {reasons}",
        first_trigger,
        first_on,
    )


def explain(reckoned: WorkingDaySum, label: str) -> str:
    """``5 working days after 2026-12-21 (became aware), skipping 2026-12-25 Christmas Day``."""
    unit = "working day" if reckoned.working_days == 1 else "working days"
    text = (
        f"{reckoned.working_days} {unit} {reckoned.direction} "
        f"{reckoned.start.isoformat()} ({label})"
    )
    if not reckoned.skipped:
        return text
    names = [str(closure) for closure in reckoned.skipped]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{text}, skipping {listed}"
