"""The plan of one incident: classification, events and obligations together (DESIGN.md §4-§5, §7).

:func:`plan_incident` is what ``csins-adapter plan`` prints, what ``POST /plan`` returns
(:meth:`Plan.to_json_dict`) and what the service recomputes on every incident change.
:func:`load_plan_input` validates a ``plan`` input (a record that may carry an ``events`` list)
with the same schemas as the API, collecting every field error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from marshmallow import ValidationError

from adapter.deadlines.calendar import calendar_for
from adapter.deadlines.lifecycle import (
    EventChecks,
    Lifecycle,
    ReferralDecision,
    find_consultation,
    find_referral_decision,
    ordered,
    replay,
    review_begun,
)
from adapter.deadlines.obligations import Obligation, derive_obligations
from adapter.errors import InvalidRecord
from adapter.rules import BECAME_AWARE, PANEL_CONSULTED, Classification, classify
from config.settings import Policy
from schemas.consistency import future_dates
from schemas.events import EventSchema
from schemas.fields import flatten
from schemas.incident import IncidentRecordSchema

_RECORD_SCHEMA = IncidentRecordSchema(today=None)
_EVENT_SCHEMA = EventSchema()


@dataclass(frozen=True, slots=True)
class Plan:
    """What one incident obliges, with the events replayed; ``to_json_dict`` is the §7 contract."""

    classification: Classification
    lifecycle: Lifecycle
    obligations: tuple[Obligation, ...]
    warnings: tuple[str, ...]
    referral_open: bool = False
    """An agency's referral the partners have not decided to notify (§3): it owes the
    referral's obligations only."""

    @property
    def notifiable(self) -> bool:
        return self.classification.notifiable

    def to_json_dict(self) -> dict[str, Any]:
        """``{"notifiable", "blocked_reason", "classification", "rapid_review_required",
        "obligations", "warnings"}`` exactly as DESIGN.md §7 describes."""
        found = self.classification
        return {
            "notifiable": found.notifiable,
            "blocked_reason": found.blocked_reason,
            "classification": list(found.classification),
            "rapid_review_required": found.rapid_review_required,
            "obligations": [obligation.to_json_dict() for obligation in self.obligations],
            "warnings": list(self.warnings),
        }


def plan_incident(
    record: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    policy: Policy,
    *,
    today: dt.date | None = None,
    rapid_review_delivered_on: dt.date | None = None,
    recorded: int = 0,
) -> Plan:
    """Classify a loaded record, replay its loaded events, and derive every obligation.

    ``today`` (Europe/London) adds a warning for each date submission would refuse as in the
    future (``became_aware_on``, a death, a born child's birth): ``plan`` answers what-if
    questions rather than refusing them. It also owes what the passing of time alone makes
    owed: the delay notice once the publication limit has passed unpublished (§8).
    ``rapid_review_delivered_on`` starts the Panel's 15 working days (§3); without it, the rapid
    review's completion date is used.
    ``recorded`` says how many of ``events`` (the first ones as given) the service recorded
    before: what the record as amended contradicts in them is a warning, not a refusal, and a
    recorded rapid review keeps the incident a notified serious incident (DESIGN.md §4, §2).
    Raises :class:`EventRefused` for an impossible event and :class:`CalendarRangeError` for a
    date outside the known bank-holiday years.
    """
    calendar = calendar_for(policy)
    timeline = ordered(events)
    checks = EventChecks(recorded)
    consultation = find_consultation(record, timeline, checks)
    referral = find_referral_decision(record, timeline, checks)
    classification = as_referral(
        record,
        classify(record, consultation, rapid_review_completed_on=review_begun(timeline, checks)),
        referral,
    )
    panel = classification.panel_trigger
    lifecycle = replay(
        timeline,
        rapid_review_required=classification.rapid_review_required,
        blocked_reason=classification.blocked_reason,
        review_from=(
            panel.trigger_on if panel is not None and panel.trigger == PANEL_CONSULTED else None
        ),
        checks=checks,
        referral=bool(record.get("referral")),
        referral_decided=referral,
    )
    obligations = derive_obligations(
        classification,
        lifecycle,
        calendar,
        policy,
        rapid_review_delivered_on=rapid_review_delivered_on,
        today=today,
        referral_received_on=(record.get("referral") or {}).get("received_on"),
    )
    warnings = _warnings(record, classification, checks, today)
    open_referral = bool(record.get("referral")) and (
        referral is None or referral.decision != "notify"
    )
    return Plan(classification, lifecycle, obligations, warnings, open_referral)


def _warnings(
    record: Mapping[str, Any],
    classification: Classification,
    checks: EventChecks,
    today: dt.date | None,
) -> tuple[str, ...]:
    """The plan's warnings: first each date submission would refuse as in the future (what
    submission refuses, plan only warns of: what-if questions), then the classification's,
    then the events'."""
    future = [] if today is None else future_dates(record, today)
    return (
        *(f"{path}: {message}" for path, message in future),
        *classification.warnings,
        *checks.warnings,
    )


REFERRAL_RECEIVED = "referral_received"
"""The trigger of a notified referral's deadlines: the day the referral was received (§3)."""


def as_referral(
    record: Mapping[str, Any], found: Classification, decided: ReferralDecision | None
) -> Classification:
    """What an agency's referral owes (DESIGN.md §4 "Cases raised by partner agencies"):
    nothing notified until the partners decide to notify it; then the classification's
    notifications, their clocks running from the referral's receipt."""
    referral = record.get("referral")
    if not referral:
        return found
    received: dt.date = referral["received_on"]
    if decided is not None and decided.decision == "notify":
        if not found.notifiable:
            note = (
                f"the partners decided on {decided.on} to notify this referral, but the record "
                "does not meet a notification row (§1, §2): amend it with what is known"
            )
            return replace(found, warnings=(*found.warnings, note))
        documents = tuple(
            replace(n, trigger=REFERRAL_RECEIVED, trigger_on=received)
            if n.trigger == BECAME_AWARE
            else n
            for n in found.documents
        )
        return replace(found, documents=documents)
    state = (
        "not to be notified (referral_decided on " + decided.on.isoformat() + ")"
        if decided is not None
        else "awaiting the safeguarding partners' decision (referral_decided)"
    )
    note = (
        f"an agency's referral (received {received.isoformat()}"
        + (f" from {referral['agency']}" if referral.get("agency") else "")
        + f"), {state}: it owes the partners' decision and a local rapid review (§3), "
        "nothing to a national body until the partners decide to notify it"
    )
    return replace(
        found,
        notifiable=False,
        blocked_reason=None,
        rapid_review_required=False,
        documents=(),
        warnings=(*found.warnings, note),
    )


def load_plan_input(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate a ``plan`` input: the record (without ``events``) and each event.

    Raises :class:`InvalidRecord` with every ``(path, message)`` problem, events' paths prefixed
    ``events.N``. A future ``became_aware_on`` is not an error here (see :func:`plan_incident`).
    """
    if not isinstance(data, Mapping):
        raise InvalidRecord([("_schema", "expected a JSON object: an incident record")])
    body = {key: value for key, value in data.items() if key != "events"}
    raw_events = data.get("events")
    if raw_events is None:  # absent or null: no events; {} or "" is not a list of events
        raw_events = []
    problems: list[tuple[str, str]] = []
    record: dict[str, Any] = {}
    try:
        record = _RECORD_SCHEMA.load(body)
    except ValidationError as error:
        problems += flatten(error.messages)
    events: list[dict[str, Any]] = []
    if not isinstance(raw_events, list):
        problems.append(("events", "expected a list of events"))
        raw_events = []
    for index, raw in enumerate(raw_events):
        try:
            events.append(_EVENT_SCHEMA.load(raw))
        except ValidationError as error:
            problems += flatten(error.messages, f"events.{index}")
    if problems:
        raise InvalidRecord(problems)
    return record, events
