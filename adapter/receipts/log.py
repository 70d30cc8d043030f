"""The receipt log in the database: append under a lock, checkpoint, read, audit (DESIGN.md §6).

Appending locks the single ``receipt_log_head`` row (after the caller has locked the delivery),
takes the next sequence number and the previous receipt's hash, signs, and writes the receipt
and the new head in the caller's transaction: the transaction that marks the delivery
acknowledged. ``receipts.delivery_id`` and ``receipts.sequence`` are unique, so neither two
receipts for one delivery nor two receipts at one place in the chain can ever be committed.

Auditing re-walks the chain and every checkpoint (stored ones, and any a compliance officer kept),
then compares the end of the walk with the head row: a deleted, edited or replaced receipt is
reported at its sequence number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapter.receipts.chain import ChainBreak, build_checkpoint, verify_chain
from adapter.receipts.errors import VerificationFailed
from adapter.receipts.keys import SigningKeyring, load_keyring
from adapter.receipts.receipt import DeliveryFacts, issue_receipt
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt
from adapter.store.database import Database
from adapter.store.errors import InvalidCursor
from adapter.store.models import Receipt, ReceiptCheckpoint, ReceiptLogHead
from adapter.store.pagination import Page, after, decode_cursor, page_from, page_size
from adapter.store.scope import scoped
from config.settings import Settings
from schemas.receipt import GENESIS_SHA256

HEAD_ID = 1
"""The id of the one ``receipt_log_head`` row (created by the migration)."""

AUDIT_BATCH = 1000
"""Receipts read per query while auditing the whole log."""

MAX_SEQUENCE = 2**63 - 1
"""Largest receipt sequence number the database can hold (``receipts.sequence`` is a BIGINT)."""


def signer_for(settings: Settings) -> SigningKeyring:
    """The signing keyring the settings name: the worker, the web and the CLI all read this one."""
    return load_keyring(
        settings.data_dir, key_file=settings.signing_key_file, keys_dir=settings.signing_keys_dir
    )


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


@dataclass(frozen=True)
class AuditResult:
    """What an audit walked, and the first break it found (None: the log is intact)."""

    receipts: int
    checkpoints: int
    first_break: ChainBreak | None


_T = TypeVar("_T")


class _Reader(Protocol):
    """Runs one read in a transaction: the caller's session, or a short transaction of its own."""

    def __call__(self, work: Callable[[Session], _T], /) -> _T: ...


def audit_log(
    session: Session,
    signer: SigningKeyring,
    *,
    checkpoints: Iterable[SignedCheckpoint] = (),
    public_keys: Mapping[str, Ed25519PublicKey] | None = None,
) -> AuditResult:
    """Re-walk the whole chain, every stored checkpoint and ``checkpoints``; the first break.

    Keys are the keyring's public keys unless ``public_keys`` (e.g. a published JWKS) is given.
    """

    def read(work: Callable[[Session], _T]) -> _T:
        return work(session)

    return _audit(read, signer.public_keys if public_keys is None else public_keys, checkpoints)


def audit_database(
    database: Database,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    checkpoints: Iterable[SignedCheckpoint] = (),
) -> AuditResult:
    """:func:`audit_log` with ``public_keys``, reading each batch in its own short transaction.

    On SQLite every transaction holds the write lock (``BEGIN IMMEDIATE``): one transaction
    around a long audit would stop the workers from appending receipts until it ends.
    """

    def read(work: Callable[[Session], _T]) -> _T:
        with database.session_scope() as session:
            return work(session)

    return _audit(read, public_keys, checkpoints)


@dataclass(frozen=True)
class _Head:
    size: int
    head_sha256: str


def _read_head(session: Session) -> _Head:
    head = session.get(ReceiptLogHead, HEAD_ID)
    return _Head(0, GENESIS_SHA256) if head is None else _Head(head.size, head.head_sha256)


def _stored_checkpoints(session: Session) -> list[SignedCheckpoint] | ChainBreak:
    """Every checkpoint the database holds, oldest first, or the first unreadable one."""
    found: list[SignedCheckpoint] = []
    for row in session.scalars(select(ReceiptCheckpoint).order_by(ReceiptCheckpoint.id)):
        try:
            found.append(SignedCheckpoint.from_jws(row.jws))
        except VerificationFailed as exc:
            return ChainBreak(row.size, "checkpoint", f"stored checkpoint {row.id}: {exc.reason}")
    return found


def _audit(
    read: _Reader,
    public_keys: Mapping[str, Ed25519PublicKey],
    extra: Iterable[SignedCheckpoint],
) -> AuditResult:
    # Read in this order: checkpoints, the last receipt, then the head. The head only grows,
    # and each receipt is committed with the head it advances, so everything read before the
    # head is covered by it, and a receipt beyond it means the head itself was altered.
    stored = read(_stored_checkpoints)
    if isinstance(stored, ChainBreak):
        return AuditResult(0, 0, stored)
    checkpoints = [*stored, *extra]
    last = read(_last_sequence)
    head = read(_read_head)
    if last > head.size:
        return AuditResult(0, len(checkpoints), _beyond_head(head, last))
    walk = _Walk(read, head.size)
    found = verify_chain(walk.receipts(), checkpoints, public_keys)
    if walk.altered is not None and (found is None or found.sequence > walk.altered):
        found = ChainBreak(
            walk.altered,
            "altered",
            f"receipt #{walk.altered} was changed after it was appended: its JWS no longer "
            "has the chain hash stored with it",
        )
    if found is None:
        found = _check_head(head, walk.count, walk.last_sha256)
    return AuditResult(walk.count, len(checkpoints), found)


class _Walk:
    """The stored receipts up to the head, in sequence order, read :data:`AUDIT_BATCH` at a time.

    A row whose JWS no longer hashes to its stored ``chain_hash`` was edited in place: it is
    given to the chain check (which may find a more telling reason there), and the walk stops.
    """

    def __init__(self, read: _Reader, up_to: int) -> None:
        self._read, self._up_to = read, up_to
        self.count = 0
        self.last_sha256 = GENESIS_SHA256
        self.altered: int | None = None

    def _batch(self, after_sequence: int) -> list[tuple[int, str, str]]:
        def work(session: Session) -> list[tuple[int, str, str]]:
            rows = session.execute(
                select(Receipt.sequence, Receipt.jws, Receipt.chain_hash)
                .where(Receipt.sequence > after_sequence, Receipt.sequence <= self._up_to)
                .order_by(Receipt.sequence)
                .limit(AUDIT_BATCH)
            )
            return [(sequence, jws, chain) for sequence, jws, chain in rows]

        return self._read(work)

    def receipts(self) -> Iterator[SignedReceipt]:
        last = 0
        while rows := self._batch(last):
            for sequence, jws, stored_hash in rows:
                receipt = _parsed(jws)
                self.count += 1
                self.last_sha256 = receipt.chain_hash
                if receipt.chain_hash != stored_hash:
                    self.altered = sequence
                    yield receipt
                    return
                yield receipt
            last = rows[-1][0]


def _parsed(jws: str) -> SignedReceipt:
    """The stored receipt; an unreadable JWS is still handed on, so the chain check names it."""
    try:
        return SignedReceipt.from_jws(jws)
    except VerificationFailed:
        return SignedReceipt({}, jws)


def _last_sequence(session: Session) -> int:
    return session.scalar(select(func.max(Receipt.sequence))) or 0


def _beyond_head(head: _Head, last: int) -> ChainBreak:
    held = f"#{last}" if last == head.size + 1 else f"#{head.size + 1} to #{last}"
    return ChainBreak(
        head.size + 1,
        "head",
        f"the log head records {head.size} receipts but the log also holds {held}: "
        "the head was altered",
    )


def _check_head(head: _Head, count: int, last_sha256: str) -> ChainBreak | None:
    """The walked log against the head row the last append wrote (a deleted or replaced tail)."""
    if count < head.size:
        gone = f"#{count + 1} is" if count + 1 == head.size else f"#{count + 1} to #{head.size} are"
        return ChainBreak(
            count + 1,
            "missing",
            f"the log head records {head.size} receipts but the log ends at #{count}: {gone} "
            "missing",
        )
    if head.size and last_sha256 != head.head_sha256:
        return ChainBreak(
            head.size,
            "head",
            f"receipt #{head.size} is not the one the log head recorded: it was replaced",
        )
    return None


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
        statement = statement.where(after([Receipt.sequence], [receipts_cursor_sequence(cursor)]))
    rows = session.scalars(statement.order_by(Receipt.sequence).limit(size + 1)).all()
    return page_from(rows, size, "receipts", lambda row: (row.sequence,))


def receipts_cursor_sequence(cursor: str) -> int:
    """The sequence number a ``receipts`` cursor resumes after, or :class:`InvalidCursor`.

    Only a positive integer that ``receipts.sequence`` (a 64-bit integer) can hold: anything else
    would fail in the query itself, as a 500 rather than a 400 (API) or a "not valid" page (web).
    """
    (sequence,) = decode_cursor("receipts", cursor, 1)
    if not isinstance(sequence, int) or not 0 < sequence <= MAX_SEQUENCE:
        raise InvalidCursor("the cursor is not one this service issued")
    return sequence


def incident_receipts(session: Session, la_scope: str, incident_id: str) -> list[Receipt]:
    """Every receipt of one incident in the scope, in log order."""
    return list(
        session.scalars(
            scoped(
                select(Receipt).where(Receipt.incident_id == incident_id), Receipt.la_code, la_scope
            ).order_by(Receipt.sequence)
        )
    )
