"""Assisted submissions: the ``csins`` channel, where a person delivers (DESIGN.md §6).

None of the national bodies takes an API call for a notification: a person makes it on the
national online service (CSINS), which shares it with the Panel, Ofsted and the DfE. A delivery
routed to ``csins`` is therefore handed to a person (:func:`hand_over`): the admin pages list it
under "Submissions to make", laid out as the online service asks. Recording the submission
(:func:`record_confirmation`: the service's confirmation reference, who submitted it, when) is
the acknowledgement: it acknowledges every open delivery of that document version routed to
``csins`` (one submission reaches every body), meets their obligations at the time of the
submission, issues each its receipt (``acknowledged_by: person``, ``confirmed_by``) and writes
the audit log. Recording the same confirmation again changes nothing; a different one for a
delivery already confirmed is a conflict.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.delivery import Outcome, OutcomeKind, encode_envelope
from adapter.delivery.envelope import sha256_hex
from adapter.receipts import SigningKeyring
from adapter.service import delivering
from adapter.store import assisted as assisted_store
from adapter.store import audit_log, outbox
from adapter.store.api_keys import Principal
from adapter.store.crypto import Keyring
from adapter.store.models import AssistedSubmissionRow, DeliveryAttemptRow, DeliveryRow, IncidentRow
from config.settings import Settings

CSINS = assisted_store.CSINS

CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far in the future a submission time may be (clocks differ a little); more is refused."""


@dataclass(frozen=True)
class Confirmation:
    """What the online service gave the person who made the submission, and who and when."""

    reference: str
    """The online service's confirmation reference."""
    submitted_by: str
    """Who made the submission (a member of the LA's staff)."""
    submitted_at: dt.datetime
    """When it was made (aware)."""

    def same_as(self, row: AssistedSubmissionRow) -> bool:
        """Whether ``row`` records this very confirmation (a repeat, not a change)."""
        return (row.confirmation_reference, row.submitted_by, row.submitted_at) == (
            self.reference,
            self.submitted_by,
            self.submitted_at.astimezone(dt.UTC).replace(microsecond=0),
        )


class Result(enum.StrEnum):
    """How recording a confirmation ended."""

    RECORDED = "recorded"
    UNCHANGED = "unchanged"
    """The same confirmation was recorded before: nothing changed."""
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Recording:
    """The result, the deliveries the submission covers, and what to enqueue after commit."""

    result: Result
    deliveries: tuple[DeliveryRow, ...] = ()
    submission: AssistedSubmissionRow | None = None
    reason: str = ""
    """Why it conflicts (``CONFLICT``)."""
    queued: tuple[tuple[str, str], ...] = ()
    """Deliveries queued by the acknowledgements (amendments made while the notification waited
    for its submission), ``(id, addressee)``: enqueue after the commit."""


def hand_over(session: Session, started: delivering.Started, now: dt.datetime) -> str:
    """Make the try ``started`` a task for a person: the delivery waits, ``queued`` with no
    next try, its try open, until the submission is recorded. Returns the delivery's status."""
    locked = outbox.lock_attempt(session, started.delivery_id, started.attempt)
    if locked is None:
        return "missing"
    delivery, attempt = locked
    if attempt is None or delivery.status != "sending":
        return delivery.status
    delivery.channel = CSINS
    delivery.status = "queued"
    delivery.next_attempt_at = None
    delivery.updated_at = now
    attempt.detail = "handed to a person: a submission to make on the online service"
    return "awaiting submission"


def check_confirmation(confirmation: Confirmation, now: dt.datetime) -> list[tuple[str, str]]:
    """Field problems of ``confirmation`` as ``(field, message)``; empty when it is fit."""
    problems = []
    if not confirmation.reference.strip() or len(confirmation.reference) > 100:
        problems.append(("reference", "expected the confirmation reference (1-100 characters)"))
    elif not confirmation.reference.isprintable():
        problems.append(("reference", "expected printable characters only"))
    if not confirmation.submitted_by.strip() or len(confirmation.submitted_by) > 200:
        problems.append(("submitted_by", "expected who made the submission (1-200 characters)"))
    elif not confirmation.submitted_by.isprintable():
        problems.append(("submitted_by", "expected printable characters only"))
    at = confirmation.submitted_at
    if at.tzinfo is None or at.utcoffset() is None:
        problems.append(("submitted_at", "expected a time with its offset"))
    elif at > now + CLOCK_SKEW:
        problems.append(("submitted_at", "is in the future"))
    return problems


def record_confirmation(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    signer: SigningKeyring,
    who: Principal,
    delivery_id: str,
    confirmation: Confirmation,
    *,
    destination: str,
    now: dt.datetime,
    via: str,
) -> Recording:
    """Record a submission made on the online service for ``delivery_id`` and every open
    ``csins`` delivery of the same document version (see the module docstring).

    ``destination`` is the online service's address (the receipts' ``destination``); ``via``
    names where the confirmation came from (``api``, ``web``) for the audit line.

    It decides on the delivery as it stands under its locks: a confirmation sent twice at once
    (a double-clicked form, a retry) waits for the first, then finds it recorded.
    """
    delivery = _locked_delivery(session, who.la_scope, delivery_id)
    if delivery is None:
        return Recording(Result.NOT_FOUND)
    if delivery.status == "acknowledged":
        return _repeat(session, delivery, confirmation)
    if delivery.channel != CSINS or delivery.status != "queued":
        return Recording(
            Result.CONFLICT,
            reason=f"delivery {delivery.id} is {delivery.status} and not a submission to make "
            "(its route is not csins, or it has not been handed to a person yet)",
        )
    task = assisted_store.task_of(session, who.la_scope, delivery)
    submission = _submission(delivery, confirmation, who, now)
    submitted_at = submission.submitted_at
    session.add(submission)
    session.flush()
    queued: list[tuple[str, str]] = []
    for covered in task.deliveries:
        queued += _acknowledge(
            session, keyring, settings, signer, covered, submission, destination, now
        )
    _audit_recorded(session, who, submission, submitted_at, task.deliveries, via)
    return Recording(Result.RECORDED, task.deliveries, submission, queued=tuple(queued))


def _audit_recorded(
    session: Session,
    who: Principal,
    submission: AssistedSubmissionRow,
    submitted_at: dt.datetime,
    covered: Sequence[DeliveryRow],
    via: str,
) -> None:
    """The audit line of a recorded submission: who recorded it, how, and what it covers."""
    audit_log.audit_by(
        session,
        who,
        "submission.recorded",
        la_code=submission.la_code,
        object_type="submission",
        object_id=submission.id,
        detail={
            "via": via,
            "document": submission.document,
            "version": submission.version,
            "confirmation_reference": submission.confirmation_reference,
            "submitted_by": submission.submitted_by,
            "submitted_at": submitted_at.isoformat(),
            "deliveries": [d.id for d in covered],
            "addressees": [d.addressee for d in covered],
        },
    )


def _locked_delivery(session: Session, la_scope: str, delivery_id: str) -> DeliveryRow | None:
    """The delivery, None if missing or out of scope, re-read once its incident and then its
    own row are locked (the order the worker takes them in, :func:`delivering.record`).

    On PostgreSQL another confirmation of the same task may be recording it right now: what
    was read before the locks (the caller's own look at the delivery included) may be stale.
    """
    found = outbox.get_delivery(session, la_scope, delivery_id)
    if found is None:
        return None
    delivering._locked_incident(session, found.incident_id)
    session.refresh(found, with_for_update=True)
    return found


def _submission(
    delivery: DeliveryRow, confirmation: Confirmation, who: Principal, now: dt.datetime
) -> AssistedSubmissionRow:
    """The row recording ``confirmation`` for the document version ``delivery`` carries, its
    time in UTC to the second."""
    return AssistedSubmissionRow(
        id=str(uuid.uuid4()),
        la_code=delivery.la_code,
        incident_id=delivery.incident_id,
        document=delivery.document,
        version=delivery.version,
        confirmation_reference=confirmation.reference.strip(),
        submitted_by=confirmation.submitted_by.strip(),
        submitted_at=confirmation.submitted_at.astimezone(dt.UTC).replace(microsecond=0),
        recorded_at=now,
        recorded_by_key_id=who.key_id,
    )


def _repeat(session: Session, delivery: DeliveryRow, confirmation: Confirmation) -> Recording:
    """A delivery acknowledged already: the same confirmation is a repeat, anything else not."""
    row = assisted_store.submission_of(session, delivery)
    if row is not None and confirmation.same_as(row):
        return Recording(Result.UNCHANGED, tuple(_covered(session, row)), row)
    if row is None:
        reason = f"delivery {delivery.id} was acknowledged by its {delivery.channel} channel"
    else:
        reason = (
            f"delivery {delivery.id} was confirmed already, with the confirmation reference "
            f"{row.confirmation_reference}"
        )
    return Recording(Result.CONFLICT, reason=reason)


def _covered(session: Session, row: AssistedSubmissionRow) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.submission_id == row.id)
            .order_by(DeliveryRow.addressee)
        )
    )


def _acknowledge(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    signer: SigningKeyring,
    delivery: DeliveryRow,
    submission: AssistedSubmissionRow,
    destination: str,
    now: dt.datetime,
) -> tuple[tuple[str, str], ...]:
    """Acknowledge one delivery of the task as the worker records an acknowledgement: its
    obligation met at the submission's time, its receipt, any amendment owed after it."""
    attempt = session.get(DeliveryAttemptRow, (delivery.id, delivery.attempts))
    if attempt is None:  # an open task always has its try; a row altered by hand has not
        attempt = DeliveryAttemptRow(delivery_id=delivery.id, number=delivery.attempts + 1)
        attempt.started_at = now
        delivery.attempts += 1
        session.add(attempt)
        session.flush()
    submitted_at = submission.submitted_at
    first = delivery.first_attempt_at or attempt.started_at
    # The person may have made the submission before the task was opened here (the record
    # entered after a submission made at once): the first try is then the submission itself.
    delivery.first_attempt_at = min(first, submitted_at)
    started = delivering.started_for(keyring, delivery, attempt, _reference(session, delivery))
    body = encode_envelope(started.message) if started.message is not None else b""
    outcome = Outcome(
        kind=OutcomeKind.ACKNOWLEDGED,
        channel=CSINS,
        destination=destination,
        status=None,
        reference=submission.confirmation_reference,
        retry_after=None,
        detail=f"confirmed by a person: {submission.confirmation_reference}",
        sent_sha256=sha256_hex(body),
        sent_bytes=len(body),
        tries=1,
        started_at=delivery.first_attempt_at,
        finished_at=submitted_at,
        confirmed_by=submission.submitted_by,
    )
    recorded = delivering.record(session, keyring, settings, signer, started, outcome, now)
    delivery.submission_id = submission.id
    return recorded.queued


def _reference(session: Session, delivery: DeliveryRow) -> str:
    incident = session.get_one(IncidentRow, delivery.incident_id)
    return incident.reference
