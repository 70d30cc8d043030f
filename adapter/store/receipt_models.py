"""The receipt log (DESIGN.md §6): signed receipts, chained, the head and the checkpoints.

No personal data: the JWS carries hashes, references and times. Declared on the same ``Base`` as
:mod:`adapter.store.models`, which imports this module.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adapter.clock import utcnow
from adapter.store.types import BIGINT_ID, LA_CODE, SHA256_HEX, UUID_TEXT, Base


class ReceiptRow(Base):
    """One signed receipt per acknowledged delivery, chained (DESIGN.md §6).

    Holds no personal data: the JWS carries hashes, references and times. ``delivery_id`` is
    unique, so a delivery can never have two receipts; ``sequence`` is unique, so two workers
    cannot both extend the log at the same place.
    """

    __tablename__ = "receipts"
    __table_args__ = (Index(None, "la_code", "acknowledged_at"),)

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    la_code: Mapped[str] = mapped_column(LA_CODE)
    document: Mapped[str] = mapped_column(String(60))
    addressee: Mapped[str] = mapped_column(String(40))
    on_time: Mapped[bool] = mapped_column(Boolean)
    acknowledged_at: Mapped[dt.datetime]
    jws: Mapped[str] = mapped_column(Text)
    chain_hash: Mapped[str] = mapped_column(SHA256_HEX)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReceiptLogHeadRow(Base):
    """The head of the receipt log: one row, locked while a receipt is appended."""

    __tablename__ = "receipt_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    head_sha256: Mapped[str] = mapped_column(SHA256_HEX)


class ReceiptCheckpointRow(Base):
    """A signed statement of the log's size and head hash at a moment (tail-rewrite evidence)."""

    __tablename__ = "receipt_checkpoints"

    id: Mapped[int] = mapped_column(BIGINT_ID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    head_sha256: Mapped[str] = mapped_column(SHA256_HEX)
    jws: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
