"""Which deliveries an incident's obligations call for, with the exact bytes each will send.

A document goes to an addressee once (DESIGN.md §6: a delivery is idempotent and yields at most
one receipt). Notifications are built from the current record as the Panel's form takes it;
event documents (rapid review, review decision, reports, delay notice) from the event that
produced them. Amendments go to every addressee that was already sent a notification (§2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.crypto import Keyring
from adapter.documents import NOTIFICATION_DOCUMENTS, event_document_payload, notification_payload
from adapter.store import outbox
from adapter.store.models import Delivery, Incident, Obligation
from schemas import codes

DOCUMENT_EVENTS: Mapping[str, tuple[str, ...]] = {
    "rapid_review": ("rapid_review_completed",),
    "lcspr_decision": ("lcspr_decided",),
    "final_report": ("publication_scheduled",),
    "improvements_information": ("publication_scheduled",),
    # §8: the reasons for a delay; a scheduled date past the limit is itself the notice's cause.
    "publication_delay_notice": ("publication_delayed", "publication_scheduled"),
}
"""The events whose content a document carries, most specific first."""

AMENDMENT = "amendment"


def deliverable(obligation: Obligation) -> bool:
    """Whether an obligation is met by sending a document to a national body."""
    return obligation.addressee in codes.ADDRESSEES and (
        obligation.document in NOTIFICATION_DOCUMENTS or obligation.document in DOCUMENT_EVENTS
    )


def payload_bytes(payload: Mapping[str, Any]) -> bytes:
    """The payload's RFC 8785 canonical bytes: stored, and hashed as the envelope's
    ``payload_sha256`` (the receipt hashes the whole request body that carried them)."""
    return rfc8785.dumps(dict(payload))


def existing_deliveries(session: Session, incident: Incident) -> list[Delivery]:
    return list(session.scalars(select(Delivery).where(Delivery.incident_id == incident.id)))


def queue_owed(
    session: Session,
    keyring: Keyring,
    incident: Incident,
    obligations: Iterable[Obligation],
    record_json: Mapping[str, Any],
    events_json: Sequence[Mapping[str, Any]],
    *,
    new: bool = False,
) -> list[Delivery]:
    """Queue one delivery for every deliverable obligation that has none yet.

    ``new`` says the incident was created in this transaction, so it has no deliveries to read.
    """
    existing = () if new else existing_deliveries(session, incident)
    sent = {(d.document, d.addressee) for d in existing}
    queued: list[Delivery] = []
    for obligation in obligations:
        if not deliverable(obligation) or (obligation.document, obligation.addressee) in sent:
            continue
        payload = _payload_for(obligation.document, incident, record_json, events_json)
        if payload is None:
            continue
        queued.append(
            outbox.enqueue_delivery(
                session,
                keyring,
                incident=incident,
                document=obligation.document,
                addressee=obligation.addressee,
                payload=payload_bytes(payload),
                obligation=obligation,
            )
        )
    return queued


def queue_amendments(
    session: Session,
    keyring: Keyring,
    incident: Incident,
    record_json: Mapping[str, Any],
    amended_from: int,
) -> list[Delivery]:
    """§2: facts that emerge later go to every addressee already sent a notification."""
    notified = sorted(
        {
            (d.addressee, d.document)
            for d in existing_deliveries(session, incident)
            if d.document in NOTIFICATION_DOCUMENTS
        }
    )
    return [
        outbox.enqueue_delivery(
            session,
            keyring,
            incident=incident,
            document=AMENDMENT,
            addressee=addressee,
            payload=payload_bytes(
                notification_payload(
                    document, record_json, incident.current_version, amended_from=amended_from
                )
            ),
        )
        for addressee, document in notified
    ]


def _payload_for(
    document: str,
    incident: Incident,
    record_json: Mapping[str, Any],
    events_json: Sequence[Mapping[str, Any]],
) -> dict[str, Any] | None:
    if document in NOTIFICATION_DOCUMENTS:
        return notification_payload(document, record_json, incident.current_version)
    for event_type in DOCUMENT_EVENTS[document]:
        latest = [event for event in events_json if event["type"] == event_type]
        if latest:
            return event_document_payload(document, latest[-1])
    return None
