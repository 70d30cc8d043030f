"""Auditing the receipt log in the database: the chain, the checkpoints, the head, the rows.

The audit re-walks the chain and every checkpoint (stored ones, and any a compliance officer
kept), then compares the end of the walk with the head row: a deleted, edited or replaced receipt
is reported at its sequence number. Each row's own columns (what the lists and filters show) are
compared with the receipt it stores, so an edited ``on_time`` or ``la_code`` is reported too.

A delivery is marked acknowledged in the transaction that appends its receipt (DESIGN.md §6), so
an acknowledged delivery without a receipt means the log lost its tail even when the head row
was rolled back to match: the one thing the chain and head cannot show without a checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from adapter.receipts.chain import ChainBreak, verify_chain
from adapter.receipts.errors import VerificationFailed
from adapter.receipts.keys import SigningKeyring
from adapter.receipts.receipt import format_utc
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt, same_json
from adapter.store.database import Database
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptCheckpointRow, ReceiptLogHeadRow, ReceiptRow
from schemas.receipt import GENESIS_SHA256

HEAD_ID = 1
"""The id of the one ``receipt_log_head`` row (created by the migration)."""

AUDIT_BATCH = 1000
"""Receipts read per query while auditing the whole log."""

SIGNED_COLUMNS: tuple[tuple[str, str, Callable[[Any], Any]], ...] = (
    ("id", "receipt_id", str),
    ("sequence", "sequence", int),
    ("delivery_id", "delivery_id", str),
    ("la_code", "local_authority_code", str),
    ("document", "document", str),
    ("addressee", "addressee", str),
    ("on_time", "on_time", bool),
    ("acknowledged_at", "acknowledged_at", format_utc),
)
"""Each ``receipts`` column that the signed receipt also holds: (column, signed field, how the
stored value is written in the receipt). ``incident_id`` is checked through the delivery."""


def stored_difference(row: ReceiptRow, content: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first column of ``row`` that differs from its signed receipt: (column, signed field).

    The columns are what the lists, filters and scoping use, so one edited in place would show a
    reader something the receipt does not say; None when every one matches.
    """
    for column, field, written in SIGNED_COLUMNS:
        if field not in content or not same_json(written(getattr(row, column)), content[field]):
            return column, field
    return None


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
    head = session.get(ReceiptLogHeadRow, HEAD_ID)
    return _Head(0, GENESIS_SHA256) if head is None else _Head(head.size, head.head_sha256)


def _stored_checkpoints(session: Session) -> list[SignedCheckpoint] | ChainBreak:
    """Every checkpoint the database holds, oldest first, or the first unreadable one."""
    found: list[SignedCheckpoint] = []
    for row in session.scalars(select(ReceiptCheckpointRow).order_by(ReceiptCheckpointRow.id)):
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
    if walk.altered is not None and (found is None or found.sequence > walk.altered.sequence):
        found = walk.altered
    if found is None:
        found = _check_head(head, walk.count, walk.last_sha256)
    if found is None:
        found = read(lambda session: _unreceipted(session, walk.count))
    return AuditResult(walk.count, len(checkpoints), found)


_Row = tuple[int, SignedReceipt, ChainBreak | None]
"""A walked receipt: its stored sequence, its JWS parsed, and how the row no longer matches
that JWS (None: it matches)."""


class _Walk:
    """The stored receipts up to the head, in sequence order, read :data:`AUDIT_BATCH` at a time.

    A row that no longer matches its JWS was edited in place: its JWS no longer hashes to the
    stored ``chain_hash``, or a column differs from the signed receipt. The receipt is given to
    the chain check (which may find a more telling reason there), and the walk stops.
    """

    def __init__(self, read: _Reader, up_to: int) -> None:
        self._read, self._up_to = read, up_to
        self.count = 0
        self.last_sha256 = GENESIS_SHA256
        self.altered: ChainBreak | None = None

    def _batch(self, after_sequence: int) -> list[_Row]:
        def work(session: Session) -> list[_Row]:
            rows = session.execute(
                select(ReceiptRow, DeliveryRow.incident_id)
                .outerjoin(DeliveryRow, DeliveryRow.id == ReceiptRow.delivery_id)
                .where(ReceiptRow.sequence > after_sequence, ReceiptRow.sequence <= self._up_to)
                .order_by(ReceiptRow.sequence)
                .limit(AUDIT_BATCH)
            )
            walked: list[_Row] = []
            for row, delivery_incident_id in rows:
                receipt = _parsed(row.jws)
                altered = _row_altered(row, receipt, delivery_incident_id)
                walked.append((row.sequence, receipt, altered))
            return walked

        return self._read(work)

    def receipts(self) -> Iterator[SignedReceipt]:
        last = 0
        while rows := self._batch(last):
            for _sequence, receipt, altered in rows:
                self.count += 1
                self.last_sha256 = receipt.chain_hash
                if altered is not None:
                    self.altered = altered
                    yield receipt
                    return
                yield receipt
            last = rows[-1][0]


def _row_altered(
    row: ReceiptRow, receipt: SignedReceipt, delivery_incident_id: str | None
) -> ChainBreak | None:
    """How the stored row no longer matches the receipt it stores, if it does not."""
    sequence = row.sequence
    if receipt.chain_hash != row.chain_hash:
        return ChainBreak(
            sequence,
            "altered",
            f"receipt #{sequence} was changed after it was appended: its JWS no longer "
            "has the chain hash stored with it",
        )
    difference = stored_difference(row, receipt.content)
    if difference is not None:
        column, field = difference
        return ChainBreak(
            sequence,
            "altered",
            f"receipt #{sequence} was changed after it was appended: its stored {column} "
            f"does not match the signed {field}",
        )
    if row.incident_id != delivery_incident_id:
        return ChainBreak(
            sequence,
            "altered",
            f"receipt #{sequence} was changed after it was appended: its stored incident_id "
            "is not the incident of the signed delivery_id",
        )
    return None


def _parsed(jws: str) -> SignedReceipt:
    """The stored receipt; an unreadable JWS is still handed on, so the chain check names it."""
    try:
        return SignedReceipt.from_jws(jws)
    except VerificationFailed:
        return SignedReceipt({}, jws)


def _last_sequence(session: Session) -> int:
    return session.scalar(select(func.max(ReceiptRow.sequence))) or 0


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


def _unreceipted(session: Session, count: int) -> ChainBreak | None:
    """Acknowledged deliveries without a receipt, in one query: the first of them and how many.

    Acknowledgement and receipt are committed together, so one statement sees both or neither,
    and a receipt appended while the audit runs is no false alarm.
    """
    first = session.execute(
        select(DeliveryRow.id, func.count().over())
        .where(
            DeliveryRow.status == "acknowledged",
            ~exists().where(ReceiptRow.delivery_id == DeliveryRow.id),
        )
        .order_by(DeliveryRow.acknowledged_at, DeliveryRow.id)
        .limit(1)
    ).first()
    if first is None:
        return None
    delivery_id, how_many = first
    deliveries = "delivery has" if how_many == 1 else "deliveries have"
    return ChainBreak(
        count + 1,
        "missing",
        f"{how_many} acknowledged {deliveries} no receipt, the first delivery {delivery_id}: "
        f"the log ends at #{count}, so receipts after it were removed (or a delivery's status "
        "was altered)",
    )
