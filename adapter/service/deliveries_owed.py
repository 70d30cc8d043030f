"""Which deliveries an incident's obligations call for, with the exact bytes each will send.

A document goes to an addressee once (DESIGN.md §6: a delivery is idempotent and yields at most
one receipt). Notifications are built from the current record as the Panel's form takes it, and
later facts follow as amendments to every addressee that received the notification (§2). Event
documents (rapid review, review decision, reports, delay notice) are built from the event that
produced them, so a new event makes a new document: a changed review decision (§3 "at a later
stage ... new information") or a new publication date is sent again, and the obligation is owed
afresh until the new document is acknowledged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.deadlines.lifecycle import ordered
from adapter.rules.catalogue import addressees_of, content_events
from adapter.rules.documents import (
    NOTIFICATION_DOCUMENTS,
    event_document_payload,
    notification_payload,
)
from adapter.store import incidents as incident_store
from adapter.store import outbox
from adapter.store.crypto import Keyring
from adapter.store.models import DeliveryRow, IncidentRow, ObligationRow
from schemas import codes

AMENDMENT = "amendment"


def deliverable(obligation: ObligationRow) -> bool:
    """Whether an obligation is met by sending a document to a national body."""
    return obligation.addressee in codes.ADDRESSEES and (
        obligation.document in NOTIFICATION_DOCUMENTS or bool(content_events(obligation.document))
    )


def payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """The payload's RFC 8785 canonical bytes: stored, and hashed as the envelope's
    ``payload_sha256`` (the receipt hashes the whole request body that carried them)."""
    return rfc8785.dumps(dict(payload))


def existing_deliveries(session: Session, incident: IncidentRow) -> list[DeliveryRow]:
    return list(session.scalars(select(DeliveryRow).where(DeliveryRow.incident_id == incident.id)))


def queue_owed(
    session: Session,
    keyring: Keyring,
    incident: IncidentRow,
    obligations: Iterable[ObligationRow],
    record_json: Mapping[str, Any],
    events_json: Sequence[Mapping[str, Any]],
    *,
    new: bool = False,
) -> list[DeliveryRow]:
    """Queue a delivery for every deliverable obligation whose document has not been queued yet.

    A notification is queued once per addressee. An event document is queued again when its
    content changed (another decision, another publication date): the obligation is then owed
    afresh (not acknowledged; the caller re-reckons its status), and the earlier deliveries
    still on their way are no longer what meets it. ``new`` says the incident was created in
    this transaction, so it has no deliveries to read.
    """
    existing = [] if new else existing_deliveries(session, incident)
    queued: list[DeliveryRow] = []
    for obligation in obligations:
        if not deliverable(obligation):
            continue
        earlier = [
            d
            for d in existing
            if (d.document, d.addressee) == (obligation.document, obligation.addressee)
        ]
        if earlier and obligation.document in NOTIFICATION_DOCUMENTS:
            continue
        payload = _payload_for(obligation, incident, record_json, events_json)
        if payload is None:
            continue
        content = payload_bytes(payload)
        if any(d.payload_sha256 == hashlib.sha256(content).hexdigest() for d in earlier):
            continue
        if earlier:
            _owed_afresh(obligation, earlier)
        queued.append(
            outbox.enqueue_delivery(
                session,
                keyring,
                incident=incident,
                document=obligation.document,
                addressee=obligation.addressee,
                payload=content,
                obligation=obligation,
            )
        )
    return queued


def queue_unrequested(
    session: Session, keyring: Keyring, incident: IncidentRow, event_json: Mapping[str, Any]
) -> DeliveryRow:
    """Further information sent to the Panel unasked (§5): delivered, meeting no obligation."""
    document = "further_information"
    (addressee,) = addressees_of(document)
    return outbox.enqueue_delivery(
        session,
        keyring,
        incident=incident,
        document=document,
        addressee=addressee,
        payload=payload_bytes(event_document_payload(document, event_json)),
    )


def _owed_afresh(obligation: ObligationRow, earlier: Iterable[DeliveryRow]) -> None:
    """A new document replaces what was sent for ``obligation``: only its acknowledgement
    meets the obligation now (an earlier one still retrying is sent, but meets nothing)."""
    obligation.acknowledged_at = None
    obligation.alerted_status = None  # a new deadline: its risk is alerted afresh
    for delivery in earlier:
        if delivery.status != "acknowledged":
            delivery.obligation_id = None
            delivery.obligation = None


def queue_amendments(
    session: Session,
    keyring: Keyring,
    incident: IncidentRow,
    record_json: Mapping[str, Any],
    amended_from: int,
) -> list[DeliveryRow]:
    """§2: facts that emerge later go to every addressee that already received a notification.

    Received means acknowledged (DESIGN.md §4). A notification still on its way carries an
    older version: an amendment queued now could arrive before it, leaving the addressee with
    stale facts as the last word. It is followed up when acknowledged instead
    (:func:`queue_catch_up`).
    """
    notified = sorted(
        {
            (d.addressee, d.document)
            for d in existing_deliveries(session, incident)
            if d.document in NOTIFICATION_DOCUMENTS and d.status == "acknowledged"
        }
    )
    return [
        _amendment(session, keyring, incident, record_json, document, addressee, amended_from)
        for addressee, document in notified
    ]


def queue_catch_up(
    session: Session, keyring: Keyring, incident: IncidentRow, notification: DeliveryRow
) -> DeliveryRow | None:
    """The amendment owed to the addressee of a notification just acknowledged, when the record
    was amended while it was on its way: the current version, amending the one it carried.

    The caller holds the incident's lock, as an amendment does, so an amendment committed
    meanwhile either saw this notification acknowledged (and queued its own amendment) or is
    already the current version read here: the addressee gets the latest facts exactly once.
    """
    if notification.document not in NOTIFICATION_DOCUMENTS:
        return None
    if notification.version >= incident.current_version:
        return None
    record_json = incident_store.current_record(session, keyring, incident)
    return _amendment(
        session,
        keyring,
        incident,
        record_json,
        notification.document,
        notification.addressee,
        notification.version,
    )


def _amendment(
    session: Session,
    keyring: Keyring,
    incident: IncidentRow,
    record_json: Mapping[str, Any],
    document: str,
    addressee: str,
    amended_from: int,
) -> DeliveryRow:
    payload = notification_payload(
        document, record_json, incident.current_version, amended_from=amended_from
    )
    return outbox.enqueue_delivery(
        session,
        keyring,
        incident=incident,
        document=AMENDMENT,
        addressee=addressee,
        payload=payload_bytes(payload),
    )


def _payload_for(
    obligation: ObligationRow,
    incident: IncidentRow,
    record_json: Mapping[str, Any],
    events_json: Sequence[Mapping[str, Any]],
) -> dict[str, Any] | None:
    """The document that meets ``obligation``: the current record's notification, or the latest
    event that produced the document for its addressee, latest in the planner's order (by date,
    then lifecycle step), so a backdated event does not replace the one in force."""
    document = obligation.document
    if document in NOTIFICATION_DOCUMENTS:
        return notification_payload(document, record_json, incident.current_version)
    in_force = [event for _, event in ordered(events_json)]  # as the planner reads them
    # The events whose document it carries, most specific first (adapter.rules.catalogue): §8 a date
    # scheduled past the limit makes the delay notice owed, but only the reasons recorded send it.
    for event_type in content_events(document):
        latest = [
            event
            for event in in_force
            if event["type"] == event_type and _concerns(event, obligation.addressee)
        ]
        if latest:
            return event_document_payload(document, latest[-1])
    return None


def _concerns(event: Mapping[str, Any], addressee: str) -> bool:
    """Whether the event's document goes to ``addressee``: a review decision goes only to
    those it concerns (§3, §4), so a later decision for the Panel alone leaves what Ofsted and
    the DfE were told standing."""
    if event["type"] == "lcspr_decided":
        return addressee in addressees_of("lcspr_decision", event["decision"])
    return True
