"""The receipt log in the database: append under a lock, checkpoint, read (DESIGN.md §6).

Appending locks the single ``receipt_log_head`` row (after the caller has locked the delivery),
takes the next sequence number and the previous receipt's hash, signs, and writes the receipt
and the new head in the caller's transaction: the transaction that marks the delivery
acknowledged. ``receipts.delivery_id`` and ``receipts.sequence`` are unique, so neither two
receipts for one delivery nor two receipts at one place in the chain can ever be committed.

Auditing the log is :mod:`adapter.receipts.audit`; its entry points are importable from here too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapter.receipts.audit import (
    AUDIT_BATCH,
    HEAD_ID,
    AuditResult,
    audit_database,
    audit_log,
    stored_difference,
)
from adapter.receipts.chain import build_checkpoint
from adapter.receipts.keys import SigningKeyring, load_keyring
from adapter.receipts.receipt import DeliveryFacts, issue_receipt
from adapter.receipts.signed import SignedReceipt
from adapter.store.dialects import dialect_insert
from adapter.store.errors import InvalidCursor
from adapter.store.pagination import (
    NOT_ISSUED,
    Keyset,
    Page,
    keyset_page,
)
from adapter.store.receipt_models import ReceiptCheckpointRow, ReceiptLogHeadRow, ReceiptRow
from adapter.store.scope import scoped
from config.settings import Settings
from schemas.receipt import GENESIS_SHA256

__all__ = [
    "AUDIT_BATCH",
    "HEAD_ID",
    "MAX_SEQUENCE",
    "AuditResult",
    "append_receipt",
    "audit_database",
    "audit_log",
    "get_receipt",
    "incident_receipts",
    "list_receipts",
    "receipts_cursor_sequence",
    "record_checkpoint",
    "signed",
    "signer_for",
    "stored_difference",
]

MAX_SEQUENCE = 2**63 - 1
"""Largest receipt sequence number the database can hold (``receipts.sequence`` is a BIGINT)."""


def signer_for(settings: Settings) -> SigningKeyring:
    """The signing keyring the settings name: the worker, the web and the CLI all read this one."""
    return load_keyring(
        settings.data_dir, key_file=settings.signing_key_file, keys_dir=settings.signing_keys_dir
    )


def append_receipt(
    session: Session, signer: SigningKeyring, facts: DeliveryFacts, *, incident_id: str
) -> ReceiptRow:
    """Sign and store the receipt of an acknowledged delivery as the log's next entry."""
    head = _locked_head(session)
    signed = issue_receipt(
        facts, sequence=head.size + 1, previous_receipt_sha256=head.head_sha256, keyring=signer
    )
    content = signed.content
    row = ReceiptRow(
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


def _locked_head(session: Session) -> ReceiptLogHeadRow:
    """The log's head, locked until the transaction ends: the next receipt's place.

    The migration creates the head row; a database emptied table by table (as the tests empty
    theirs) has none to lock. It is then created race-free: on PostgreSQL two receipts recorded
    at once by two workers both found none, and the second failed on the duplicate head (its
    delivery then waited for the sweeper and was sent again; CI failed on it). The second's
    insert now waits for the first's, does nothing, and locks the head the first left.
    """
    head = session.get(ReceiptLogHeadRow, HEAD_ID, with_for_update=True)
    if head is not None:
        return head
    session.execute(
        dialect_insert(session)(ReceiptLogHeadRow)
        .values(id=HEAD_ID, size=0, head_sha256=GENESIS_SHA256)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return session.get_one(ReceiptLogHeadRow, HEAD_ID, with_for_update=True, populate_existing=True)


def signed(row: ReceiptRow) -> SignedReceipt:
    """The stored receipt as the file a compliance officer downloads."""
    return SignedReceipt.from_jws(row.jws)


def record_checkpoint(session: Session, signer: SigningKeyring) -> ReceiptCheckpointRow | None:
    """Sign the log's current head (size, hash); None while the log is empty."""
    head = session.get(ReceiptLogHeadRow, HEAD_ID)
    if head is None or head.size == 0:
        return None
    checkpoint = build_checkpoint(head.size, head.head_sha256, signer)
    row = ReceiptCheckpointRow(size=head.size, head_sha256=head.head_sha256, jws=checkpoint.jws)
    session.add(row)
    session.flush()
    return row


def get_receipt(session: Session, la_scope: str, receipt_id: str) -> ReceiptRow | None:
    """One receipt, or None when it does not exist or belongs to another LA."""
    return session.scalars(
        scoped(select(ReceiptRow).where(ReceiptRow.id == receipt_id), ReceiptRow.la_code, la_scope)
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
) -> Page[ReceiptRow]:
    """Receipts in the scope matching every filter, in log order."""
    statement = scoped(select(ReceiptRow), ReceiptRow.la_code, la_scope)
    if incident_id is not None:
        statement = statement.where(ReceiptRow.incident_id == incident_id)
    if addressee is not None:
        statement = statement.where(ReceiptRow.addressee == addressee)
    if document is not None:
        statement = statement.where(ReceiptRow.document == document)
    if acknowledged_from is not None:
        statement = statement.where(ReceiptRow.acknowledged_at >= acknowledged_from)
    if acknowledged_before is not None:
        statement = statement.where(ReceiptRow.acknowledged_at < acknowledged_before)
    return keyset_page(session, statement, _RECEIPTS, cursor=cursor, limit=limit)


def receipts_cursor_sequence(cursor: str) -> int:
    """The sequence number a ``receipts`` cursor resumes after, or :class:`InvalidCursor`."""
    (sequence,) = _RECEIPTS.key(cursor)
    return int(sequence)


def _sequence(parts: Sequence[str | int]) -> tuple[int]:
    """Only a positive integer that ``receipts.sequence`` (a 64-bit integer) can hold: anything
    else would fail in the query itself, as a 500 rather than a 400 (API) or a "not valid" page
    (web)."""
    (sequence,) = parts
    if not isinstance(sequence, int) or not 0 < sequence <= MAX_SEQUENCE:
        raise InvalidCursor(NOT_ISSUED)
    return (sequence,)


_RECEIPTS = Keyset[ReceiptRow](
    "receipts", (ReceiptRow.sequence,), _sequence, lambda row: (row.sequence,)
)
"""Receipts in log order: a cursor holds the sequence number of the last one shown."""


def incident_receipts(session: Session, la_scope: str, incident_id: str) -> list[ReceiptRow]:
    """Every receipt of one incident in the scope, in log order."""
    return list(
        session.scalars(
            scoped(
                select(ReceiptRow).where(ReceiptRow.incident_id == incident_id),
                ReceiptRow.la_code,
                la_scope,
            ).order_by(ReceiptRow.sequence)
        )
    )
