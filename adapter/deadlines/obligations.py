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
from adapter.deadlines.lifecycle import Decision, Lifecycle, Publication
from adapter.deadlines.status import DeadlineStatus, deadline_status, start_of_day
from adapter.rules import Classification, Notification, catalogue
from adapter.rules.ages import years_later
from adapter.rules.catalogue import Entry
from config.settings import Policy

PRE_PUBLICATION_DOCUMENTS = {
    "full_report": "final_report",
    "improvements_only": "improvements_information",
}
"""§8: which document goes before publication, by what is published."""

_TRIGGER_LABELS = {
    "became_aware_on": "became aware",
    "panel_consulted": "Panel consulted",
    "date_of_death": "the child's death, which came after the local authority became aware",
    "rapid_review_delivered": "rapid review delivered",
    "rapid_review_completed": "rapid review completed; delivery date not known, taken as the "
    "completion date",
    "publication_scheduled": "publication date",
    "referral_received": "referral received",
}
DECISION_LABELS = {
    "local_review": "local review decided",
    "no_review": "no review decided",
    "national_review_recommended": "national review recommended",
}
_DOCUMENT_ORDER = {name: position for position, name in enumerate(catalogue.DOCUMENTS)}
_ADDRESSEE_ORDER = {name: position for position, name in enumerate(catalogue.ADDRESSEES)}


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
        satisfied = None if self.satisfied_on is None else start_of_day(self.satisfied_on)
        return deadline_status(
            self.due,
            now,
            self.acknowledged_at,
            satisfied_at=satisfied,
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
    referral_received_on: dt.date | None = None,
) -> tuple[Obligation, ...]:
    """Every obligation the classification and the events create, by due date (DESIGN.md §5).

    ``today`` (Europe/London) adds what the passing of time alone makes owed: the delay notice
    once the publication limit has passed with nothing published (§8).
    ``referral_received_on``: the record is an agency's referral, received that day (§3).
    """
    # Imported here: those obligations are built with this module's helpers.
    from adapter.deadlines import further_duties

    found = [
        *_notifications(classification.documents, calendar, policy),
        *further_duties.referral(referral_received_on, lifecycle, calendar),
        *(
            _panel_response(lifecycle, calendar, rapid_review_delivered_on)
            if classification.rapid_review_required  # not a referral's local rapid review
            else ()
        ),
        *further_duties.further_information(lifecycle, calendar),
        *_decisions(lifecycle.decisions, calendar, policy),
        *further_duties.rationale_to_family(lifecycle, calendar, policy),
        *_publication(lifecycle, calendar, today),
        *further_duties.publication_justification(lifecycle, calendar),
        *further_duties.publication_availability(lifecycle),
    ]
    found.sort(key=lambda o: (o.due, _DOCUMENT_ORDER[o.document], _ADDRESSEE_ORDER[o.addressee]))
    return tuple(found)


def each(
    row: Entry,
    addressees: Iterable[str],
    due: dt.date,
    explanation: str,
    trigger: str,
    trigger_on: dt.date,
    satisfied_on: dt.date | None = None,
) -> Iterator[Obligation]:
    for addressee in addressees:
        yield Obligation(
            row.document, addressee, due, row.kind, explanation, trigger, trigger_on, satisfied_on
        )


def owe(
    row: Entry,
    start: dt.date,
    label: str,
    trigger: str,
    calendar: WorkingDayCalendar,
    policy: Policy | None,
    satisfied_on: dt.date | None = None,
) -> Iterator[Obligation]:
    """``row`` owed to each of its addressees, due by its catalogue rule from ``start``."""
    due, explanation = reckon(row, start, label, calendar, policy)
    yield from each(row, row.addressees, due, explanation, trigger, start, satisfied_on)


def reckon(
    row: Entry,
    start: dt.date,
    label: str,
    calendar: WorkingDayCalendar,
    policy: Policy | None,
) -> tuple[dt.date, str]:
    """The due day of ``row`` counted from ``start`` by its catalogue rule, and why that day."""
    rule = row.due
    count = rule.count_for(policy)
    if rule.unit == "working_days":
        reckoned = (
            calendar.add_working_days(start, count)
            if rule.direction == "after"
            else calendar.subtract_working_days(start, count)
        )
        return reckoned.result, explain(reckoned, label)
    months = rule.unit == "months"
    due = calendar.add_months(start, count) if months else years_later(start, count)
    unit = rule.unit if count != 1 else rule.unit.removesuffix("s")
    text = f"{count} {unit} from {start.isoformat()} ({label})"
    if due.day != start.day:
        text += f", clamped to the month's last day {due.isoformat()}"
    return due, text


def _notifications(
    documents: Iterable[Notification], calendar: WorkingDayCalendar, policy: Policy
) -> Iterator[Obligation]:
    for notification in documents:
        row = catalogue.entry(notification.document, notification.case)
        due, explanation = reckon(
            row, notification.trigger_on, _TRIGGER_LABELS[notification.trigger], calendar, policy
        )
        yield from each(
            row,
            notification.addressees,
            due,
            explanation,
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
    yield from owe(
        catalogue.entry("panel_response"),
        start,
        _TRIGGER_LABELS[trigger],
        trigger,
        calendar,
        None,
        lifecycle.panel_response_received_on,
    )


def _decisions(
    decisions: Iterable[Decision], calendar: WorkingDayCalendar, policy: Policy
) -> Iterator[Obligation]:
    """§3, §4: each addressee is owed the latest decision that concerns it (one per addressee)."""
    latest: dict[str, Obligation] = {}
    for decision in decisions:
        row = catalogue.entry("lcspr_decision", decision.decision)
        label = DECISION_LABELS[decision.decision]
        for owed in owe(row, decision.on, label, "lcspr_decided", calendar, policy):
            latest[owed.addressee] = owed
    yield from latest.values()


def _publication(
    lifecycle: Lifecycle, calendar: WorkingDayCalendar, today: dt.date | None
) -> Iterator[Obligation]:
    """§8: publication within 6 months of the decision, copies 7 working days before, delays."""
    decided = lifecycle.local_review
    if decided is None or lifecycle.publishes_nothing:
        return  # §8 publish nothing: the justification replaces publication and delay notice
    publication = catalogue.entry("publication")
    limit, limit_explained = reckon(
        publication, decided.on, DECISION_LABELS["local_review"], calendar, None
    )
    yield from each(
        publication,
        publication.addressees,
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
    row = catalogue.entry(PRE_PUBLICATION_DOCUMENTS[scheduled.mode])
    due, explanation = reckon(row, publication_date, label, calendar, None)
    yield from each(row, row.addressees, due, explanation, trigger, trigger_on)


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
    notice = catalogue.entry("publication_delay_notice")
    yield from each(
        notice,
        notice.addressees,
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
