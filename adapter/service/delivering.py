"""One delivery attempt, as the worker sees it: start it, then record how it ended (DESIGN.md §6).

An acknowledgement is recorded in one transaction: the delivery acknowledged, its obligation met
(or met late) at the acknowledgement time, and the signed receipt appended to the log. A
transient failure is rescheduled on the policy's growing schedule (``Retry-After`` honoured); a
permanent one fails the delivery and raises an alert. A delivery whose deadline is at risk is
escalated, never dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.deadlines import calendar_for, deadline_status, london_date
from adapter.delivery import Delivery, Outcome
from adapter.errors import CsinsError
from adapter.receipts import DeliveryFacts, SigningKeyring
from adapter.receipts.log import append_receipt
from adapter.rules.documents import NOTIFICATION_DOCUMENTS
from adapter.service import alerts
from adapter.service.deliveries_owed import queue_catch_up
from adapter.service.replanning import replan
from adapter.store import outbox
from adapter.store.crypto import DecryptionError, Keyring
from adapter.store.models import DeliveryAttemptRow, DeliveryRow, IncidentRow, ObligationRow
from adapter.store.publishing import Publication, publish_after_commit
from config.settings import Policy, Settings

log = logging.getLogger(__name__)

AT_RISK = ("due_soon", "overdue")
"""Deadline statuses at which a delivery that has not gone through is escalated."""


MAX_RETRY_AFTER_SECONDS = 24 * 3600
"""Longest wait a ``Retry-After`` is honoured for (a day): longer, and the try comes sooner than
asked (the addressee may answer 429 or 503 again, and is asked again later)."""

RAPID_REVIEW = "rapid_review"
"""The document whose acknowledgement re-plans the incident (§3)."""


@dataclass(frozen=True)
class Started:
    """An attempt under way: what to send, and where to record the result."""

    message: Delivery | None
    """What to send; None when the stored payload cannot be read (see ``unreadable``)."""
    delivery_id: str
    addressee: str
    attempt: int
    incident_id: str
    changes_plan: bool
    """Whether its acknowledgement changes the incident: an obligation met, the rapid review
    re-planned, or a notification followed by the amendments made while it was on its way.
    Recording it then takes the incident's lock first (see :func:`record`)."""
    unreadable: str | None = None
    """Why the stored payload cannot be read (a key removed from the configuration, a row
    altered): no retry can send it, so the try is recorded as a permanent failure, alerted."""
    document: str = ""
    """The document it carries: with the addressee, its route (``config/addressees.yaml``)."""


@dataclass(frozen=True)
class Recorded:
    """How the attempt was recorded; ``retry_at`` when the delivery should be tried again."""

    status: str
    retry_at: dt.datetime | None = None
    queued: tuple[tuple[str, str], ...] = ()
    """Deliveries this record queued, ``(id, addressee)``, to enqueue after the commit: the
    amendment owed to an addressee whose notification arrived after the record was amended."""


def start(session: Session, keyring: Keyring, policy: Policy, delivery_id: str) -> Started | None:
    """Mark the delivery ``sending`` and load its exact payload; None when there is nothing to do.

    Nothing to do: missing, finished, or in another worker's hands right now.
    """
    begun = outbox.start_attempt(
        session, delivery_id, stuck_after=dt.timedelta(seconds=policy.stuck_delivery_seconds)
    )
    if begun is None:
        return None
    return started_for(keyring, begun.delivery, begun.attempt, begun.incident_reference)


def started_for(
    keyring: Keyring, delivery: DeliveryRow, attempt: DeliveryAttemptRow, incident_reference: str
) -> Started:
    """The :class:`Started` of ``attempt``, a try of ``delivery`` under way."""
    message, unreadable = None, None
    try:
        message = Delivery.from_canonical(
            outbox.delivery_payload(keyring, delivery),
            delivery_id=delivery.id,
            document=delivery.document,
            addressee=delivery.addressee,
            incident_reference=incident_reference,
            local_authority=delivery.la_code,
            version=delivery.version,
        )
    except DecryptionError as error:
        unreadable = f"the stored payload cannot be read: {error}"
    return Started(
        message,
        delivery.id,
        delivery.addressee,
        attempt.number,
        delivery.incident_id,
        changes_plan=(
            delivery.obligation_id is not None
            or delivery.document == RAPID_REVIEW
            or delivery.document in NOTIFICATION_DOCUMENTS
        ),
        unreadable=unreadable,
        document=delivery.document,
    )


def retry_delay(policy: Policy, attempts: int, retry_after: float | None) -> dt.timedelta:
    """How long to wait after the ``attempts``-th failed try: ``Retry-After`` if the addressee
    said, else the policy schedule (its last interval repeating). ``Retry-After`` is honoured up
    to :data:`MAX_RETRY_AFTER_SECONDS` (or the schedule's longest interval, if longer): a
    notification owed by a deadline is not put off for weeks, whatever the addressee asks."""
    schedule = policy.retry_schedule_seconds
    if retry_after is not None:
        longest = float(max(MAX_RETRY_AFTER_SECONDS, *schedule))
        return dt.timedelta(seconds=min(max(1.0, retry_after), longest))
    return dt.timedelta(seconds=schedule[min(attempts, len(schedule)) - 1])


def record(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    signer: SigningKeyring,
    started: Started,
    outcome: Outcome,
    now: dt.datetime,
) -> Recorded:
    """Record the outcome of ``started`` in the caller's transaction (see the module docstring).

    An acknowledgement that changes the incident's plan locks the incident before the delivery,
    in the order the API's event and amendment paths lock (the incident, then what refers to
    it), so that a re-plan here and one there run one after the other, each seeing the other's
    change, and neither waits for the other in a cycle.
    """
    incident = None
    if outcome.acknowledged and started.changes_plan:
        incident = _locked_incident(session, started.incident_id)
    locked = outbox.lock_attempt(session, started.delivery_id, started.attempt)
    if locked is None:
        return Recorded("missing")
    delivery, attempt = locked
    if attempt is None or delivery.status in ("acknowledged", "failed"):
        # Another worker finished it first (a duplicate job): the first answer stands.
        return Recorded(delivery.status)
    delivery.channel = delivery.channel or outcome.channel
    if outcome.acknowledged:
        _acknowledged(session, settings, signer, started, delivery, attempt, outcome, now)
        return _after_acknowledgement(session, keyring, settings, incident, delivery, now)
    detail = f"{outcome.status or '-'} {outcome.detail}".strip()
    if outcome.kind == "permanent":
        outbox.finish_attempt(
            session,
            delivery,
            attempt,
            outcome="permanent",
            status_code=outcome.status,
            detail=detail,
        )
        _alert(session, settings, alerts.DELIVERY_FAILED, delivery, detail)
        return Recorded("failed")
    return _retry_later(session, settings, delivery, attempt, outcome, detail, now)


def _after_acknowledgement(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    incident: IncidentRow | None,
    delivery: DeliveryRow,
    now: dt.datetime,
) -> Recorded:
    """What an acknowledgement changes of the incident (``incident``, locked, when it changes
    the plan): the rapid review re-planned, the amendment a notification now owes queued."""
    if incident is not None and delivery.document == RAPID_REVIEW:
        # §3: the Panel's 15 working days run from the day it received the rapid review.
        _replan_after(session, keyring, settings, incident, now)
    catch_up = None
    if incident is not None:
        catch_up = queue_catch_up(session, keyring, incident, delivery)
    if catch_up is None:
        return Recorded("acknowledged")
    return Recorded("acknowledged", queued=((catch_up.id, catch_up.addressee),))


def _retry_later(
    session: Session,
    settings: Settings,
    delivery: DeliveryRow,
    attempt: DeliveryAttemptRow,
    outcome: Outcome,
    detail: str,
    now: dt.datetime,
) -> Recorded:
    """A transient failure: the next try scheduled, an alert when the deadline is at risk."""
    retry_at = now + retry_delay(settings.policy, delivery.attempts, outcome.retry_after)
    risk = _risk(delivery.obligation, now, settings.policy)
    alerted_before = _risk_alerted_before(session, delivery, attempt, settings.policy)
    outbox.finish_attempt(
        session,
        delivery,
        attempt,
        outcome="transient",
        status_code=outcome.status,
        detail=detail,
        next_attempt_at=retry_at,
    )
    if risk is not None and risk != alerted_before:
        _alert(session, settings, alerts.DEADLINE_AT_RISK, delivery, detail)
    publish_retry(session, delivery, retry_at)
    return Recorded("retrying", retry_at)


def publish_retry(session: Session, delivery: DeliveryRow, retry_at: dt.datetime) -> None:
    """Put the delivery's next try on the queue, due at ``retry_at``, once the transaction that
    scheduled it commits (the one after-commit step, :mod:`adapter.store.publishing`); should
    Redis not take it, the sweeper enqueues it when it is due."""
    publish_after_commit(
        session,
        Publication("delivery", delivery.id, delivery.addressee, delivery.attempts, at=retry_at),
    )


def _acknowledged(
    session: Session,
    settings: Settings,
    signer: SigningKeyring,
    started: Started,
    delivery: DeliveryRow,
    attempt: DeliveryAttemptRow,
    outcome: Outcome,
    now: dt.datetime,
) -> None:
    acknowledged_at = outcome.finished_at
    outbox.finish_attempt(
        session,
        delivery,
        attempt,
        outcome="acknowledged",
        status_code=outcome.status,
        detail=outcome.detail,
        addressee_reference=outcome.reference,
        acknowledged_at=acknowledged_at,
    )
    obligation = delivery.obligation
    if obligation is not None and obligation.acknowledged_at is None:
        obligation.acknowledged_at = acknowledged_at
        obligation.status = deadline_status(
            obligation.due,
            now,
            acknowledged_at,
            calendar=calendar_for(settings.policy),
            due_soon_working_days=settings.policy.due_soon_working_days,
        )
    append_receipt(
        session,
        signer,
        DeliveryFacts(
            delivery_id=delivery.id,
            document=delivery.document,
            addressee=delivery.addressee,
            incident_reference=started.message.incident_reference if started.message else "",
            local_authority_code=delivery.la_code,
            # The document's own hash, as the envelope (and an email's header) carries it.
            document_sha256=started.message.payload_sha256 if started.message else "",
            payload_sha256=outcome.sent_sha256,
            channel=outcome.channel,
            destination=outcome.destination,
            attempts=delivery.attempts,
            first_attempt_at=delivery.first_attempt_at or attempt.started_at,
            acknowledged_at=acknowledged_at,
            addressee_status=_addressee_status(outcome),
            addressee_reference=outcome.reference,
            confirmed_by=outcome.confirmed_by,
            # A document no deadline asks for (an amendment) is due the day it is acknowledged,
            # a London day as every deadline (§5): 23:30 UTC in summer is already tomorrow.
            due_on=obligation.due if obligation is not None else london_date(acknowledged_at),
        ),
        incident_id=delivery.incident_id,
    )


def _addressee_status(outcome: Outcome) -> str:
    """The addressee's answer as a receipt records it: the HTTP status, the mail relay's reply
    to DATA (its code and enhanced status code, ``250 2.0.0``), or ``confirmed`` by a person."""
    if outcome.channel == "csins":
        return "confirmed"
    if outcome.channel == "smtp" and outcome.detail.startswith("DATA: "):
        return outcome.detail.removeprefix("DATA: ")
    return str(outcome.status) if outcome.status is not None else "accepted"


def _replan_after(
    session: Session, keyring: Keyring, settings: Settings, incident: IncidentRow, now: dt.datetime
) -> None:
    """Re-plan after an acknowledgement, never losing the acknowledgement to it: a plan that
    cannot be made (a stored row no longer readable) is logged, and the deadlines are made
    again at the incident's next change; the receipt is issued all the same."""
    try:
        with session.begin_nested():
            replan(session, keyring, settings.policy, incident, now)
    except CsinsError as error:
        log.error("incident %s could not be re-planned: %s", incident.id, type(error).__name__)


def _locked_incident(session: Session, incident_id: str) -> IncidentRow:
    """The incident, its row locked until the transaction ends (PostgreSQL; SQLite transactions
    are serialised already) and re-read under the lock.

    ``FOR NO KEY UPDATE`` waits for the API's ``FOR UPDATE`` and for another worker's lock, but
    not for the key-share locks that inserting a row referring to the incident takes: another
    worker that holds the receipt log's head while it writes a receipt for this incident must
    not wait for this transaction, which is about to wait for that head.
    """
    return session.scalars(
        select(IncidentRow)
        .where(IncidentRow.id == incident_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()


def _risk(obligation: ObligationRow | None, now: dt.datetime, policy: Policy) -> str | None:
    """``due_soon`` or ``overdue`` when the delivery's deadline is at risk at ``now``."""
    if obligation is None:
        return None
    status = deadline_status(
        obligation.due,
        now,
        None,
        calendar=calendar_for(policy),
        due_soon_working_days=policy.due_soon_working_days,
    )
    return status if status in AT_RISK else None


def _risk_alerted_before(
    session: Session, delivery: DeliveryRow, attempt: DeliveryAttemptRow, policy: Policy
) -> str | None:
    """The risk the previous try alerted, when it too failed for a while with the deadline at
    risk: each try of a delivery to an addressee that is down would otherwise alert again (six
    webhooks on the first day of the schedule). A worse risk (due soon, then overdue) or a try
    after a failure retried by hand alerts anew."""
    previous = session.get(DeliveryAttemptRow, (delivery.id, attempt.number - 1))
    if previous is None or previous.outcome != "transient" or previous.finished_at is None:
        return None
    return _risk(delivery.obligation, previous.finished_at, policy)


def _alert(
    session: Session, settings: Settings, kind: str, delivery: DeliveryRow, detail: str
) -> None:
    obligation = delivery.obligation
    alerts.raise_alert(
        session,
        settings,
        kind,
        la_code=delivery.la_code,
        object_type="delivery",
        object_id=delivery.id,
        detail={
            "document": delivery.document,
            "addressee": delivery.addressee,
            "attempts": delivery.attempts,
            "last_error": detail[:200],
            "due": obligation.due.isoformat() if obligation else None,
        },
    )
