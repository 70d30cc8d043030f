"""The receipt log in the database: append under a lock, checkpoint, and audit (DESIGN.md §6).

Appending locks the single ``receipt_log_head`` row (after the caller has locked the delivery),
takes the next sequence number and the previous receipt's hash, signs, and writes the receipt
and the new head in the caller's transaction: the transaction that marks the delivery
acknowledged. ``receipts.delivery_id`` and ``receipts.sequence`` are unique, so neither two
receipts for one delivery nor two receipts at one place in the chain can ever be committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.receipts.chain import ChainBreak, build_checkpoint, verify_chain
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.receipt import DeliveryFacts, issue_receipt
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt
from adapter.store.models import Receipt, ReceiptCheckpoint, ReceiptLogHead
from adapter.store.pagination import Page, after, decode_cursor, page_from, page_size
from adapter.store.scope import scoped
from schemas.receipt import GENESIS_SHA256

HEAD_ID = 1
"""The id of the one ``receipt_log_head`` row (created by the migration)."""

AUDIT_BATCH = 1000
"""Receipts read per query while auditing the whole log."""


def append_receipt(
    session: Session, signer: SigningKeyring, facts: DeliveryFacts, *, incident_id: str
) -> Receipt:
    """Sign and store the receipt of an acknowledged delivery as the log's next entry."""
    head = session.get(ReceiptLogHead, HEAD_ID, with_for_update=True)
    if head is None:
        head = ReceiptLogHead(id=HEAD_ID, size=0, head_sha256=GENESIS_SHA256)
        session.add(head)
    signed = issue_receipt(
        facts, sequence=head.size + 1, previous_receipt_sha256=head.head_sha256, keyring=signer
    )
    content = signed.content
    row = Receipt(
        id=content["receipt_id"],
        sequence=content["sequence"],
        delivery_id=facts.delivery_id,
        incident_id=incident_id,
        la_code=facts.local_authority_code,
        document=facts.document,
        addressee=facts.addressee,
        on_time=bool(content["on_time"]),
        acknowledged_at=facts.acknowledged_at,
        jws=signed.jws,
        chain_hash=signed.chain_hash,
    )
    session.add(row)
    head.size, head.head_sha256 = row.sequence, row.chain_hash
    session.flush()
    return row


def signed(row: Receipt) -> SignedReceipt:
    """The stored receipt as the file a compliance officer downloads."""
    return SignedReceipt.from_jws(row.jws)


def record_checkpoint(session: Session, signer: SigningKeyring) -> ReceiptCheckpoint | None:
    """Sign the log's current head (size, hash); None while the log is empty."""
    head = session.get(ReceiptLogHead, HEAD_ID)
    if head is None or head.size == 0:
        return None
    checkpoint = build_checkpoint(head.size, head.head_sha256, signer)
    row = ReceiptCheckpoint(size=head.size, head_sha256=head.head_sha256, jws=checkpoint.jws)
    session.add(row)
    session.flush()
    return row


def _all_receipts(session: Session) -> Iterator[SignedReceipt]:
    last = 0
    while True:
        rows = session.scalars(
            select(Receipt)
            .where(Receipt.sequence > last)
            .order_by(Receipt.sequence)
            .limit(AUDIT_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            yield signed(row)
        last = rows[-1].sequence


@dataclass(frozen=True)
class AuditResult:
    receipts: int
    checkpoints: int
    first_break: ChainBreak | None


def audit_log(session: Session, signer: SigningKeyring) -> AuditResult:
    """Re-walk the whole chain and every checkpoint; the first break, if any."""
    checkpoints = [
        SignedCheckpoint.from_jws(row.jws)
        for row in session.scalars(select(ReceiptCheckpoint).order_by(ReceiptCheckpoint.id))
    ]
    counted = 0

    def counting() -> Iterator[SignedReceipt]:
        nonlocal counted
        for receipt in _all_receipts(session):
            counted += 1
            yield receipt

    found = verify_chain(counting(), checkpoints, signer.public_keys)
    return AuditResult(counted, len(checkpoints), found)


def get_receipt(session: Session, la_scope: str, receipt_id: str) -> Receipt | None:
    """One receipt, or None when it does not exist or belongs to another LA."""
    return session.scalars(
        scoped(select(Receipt).where(Receipt.id == receipt_id), Receipt.la_code, la_scope)
    ).one_or_none()


def list_receipts(
    session: Session,
    la_scope: str,
    *,
    incident_id: str | None = None,
    addressee: str | None = None,
    document: str | None = None,
    acknowledged_from: dt.datetime | None = None,
    acknowledged_before: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[Receipt]:
    """Receipts in the scope matching every filter, in log order."""
    size = page_size(limit)
    statement = scoped(select(Receipt), Receipt.la_code, la_scope)
    if incident_id is not None:
        statement = statement.where(Receipt.incident_id == incident_id)
    if addressee is not None:
        statement = statement.where(Receipt.addressee == addressee)
    if document is not None:
        statement = statement.where(Receipt.document == document)
    if acknowledged_from is not None:
        statement = statement.where(Receipt.acknowledged_at >= acknowledged_from)
    if acknowledged_before is not None:
        statement = statement.where(Receipt.acknowledged_at < acknowledged_before)
    if cursor is not None:
        (sequence,) = decode_cursor("receipts", cursor, 1)
        statement = statement.where(after([Receipt.sequence], [int(sequence)]))
    rows = session.scalars(statement.order_by(Receipt.sequence).limit(size + 1)).all()
    return page_from(rows, size, "receipts", lambda row: (row.sequence,))
