"""The tables of the source of truth (DESIGN.md §2), as SQLAlchemy 2 typed models.

Columns named ``payload``, ``details`` and ``data`` hold AES-GCM ciphertext (``adapter.crypto``),
encrypted and decrypted by the repositories with associated data naming the row; every other
column is free of personal data so that it can be indexed, filtered and shown to admins.
``la_code`` is copied onto obligations and deliveries so that every list query can be scoped to
one local authority without a join.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from adapter.clock import utcnow
from adapter.store.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations (and SQLite batch mode) can refer to them."""

ROLES = ("local_authority", "agency", "admin", "compliance")
"""API key roles (DESIGN.md §7)."""

ALL_LAS = "*"
"""The LA scope of an admin key created for every local authority (``keys create --la '*'``)."""

DELIVERY_STATUSES = ("queued", "sending", "retrying", "acknowledged", "failed")
"""States of an outbox row (DESIGN.md §6, §7)."""

_LA = String(8)
_SHA256 = String(64)
_UUID = String(36)
_BIGINT_ID = BigInteger().with_variant(Integer(), "sqlite")
"""A 64-bit id that is still SQLite's auto-incrementing rowid."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention and the UTC datetime mapping."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class LocalAuthority(Base):
    """A local authority seen in a submitted record or an API key (code: the 3-digit DfE code)."""

    __tablename__ = "local_authorities"

    code: Mapped[str] = mapped_column(_LA, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A bearer API key: only its public prefix and the SHA-256 of the whole key are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(_SHA256)
    la_code: Mapped[str] = mapped_column(_LA, index=True)
    role: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]
    web_signed_out_at: Mapped[dt.datetime | None]
    """When the admin pages were last signed out with this key: sessions begun at or before
    then are refused, so a copied session cookie dies with the sign-out."""


class Incident(Base):
    """One notification (§2); its record lives encrypted in :class:`IncidentVersion` rows."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("la_code", "reference"),
        UniqueConstraint("la_code", "idempotency_key"),
        Index(None, "la_code", "status"),
        Index(None, "la_code", "created_at"),
    )

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    la_code: Mapped[str] = mapped_column(ForeignKey("local_authorities.code"))
    reference: Mapped[str] = mapped_column(String(100))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(_SHA256)
    """SHA-256 of the canonical current record: an identical resubmission is a no-op."""
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    children: Mapped[list[Child]] = relationship(
        order_by="Child.index", cascade="all, delete-orphan", passive_deletes=True
    )


class IncidentVersion(Base):
    """One version of an incident's record: 1 as submitted, then one per amendment (§2)."""

    __tablename__ = "incident_versions"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of the canonical record JSON."""
    payload_sha256: Mapped[str] = mapped_column(_SHA256)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Child(Base):
    """A child of the current version; personal details encrypted, query columns in the clear."""

    __tablename__ = "children"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    details: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of the child's JSON object from the record."""
    identity_known: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    looked_after: Mapped[bool | None] = mapped_column(Boolean)
    care_leaver: Mapped[bool | None] = mapped_column(Boolean)


class LifecycleEvent(Base):
    """A lifecycle event (DESIGN.md §7); its fields, and any document, encrypted in ``data``."""

    __tablename__ = "events"
    __table_args__ = (Index(None, "incident_id", "on"),)

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    on: Mapped[dt.date] = mapped_column(Date)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    document_sha256: Mapped[str | None] = mapped_column(_SHA256)
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Obligation(Base):
    """A deadline: one document owed to (or expected from) one addressee (DESIGN.md §5).

    ``status`` takes ``schemas.codes.DEADLINE_STATUSES``; the deadline-check job keeps the
    time-dependent ones (``due_soon``, ``overdue``) current so that lists can filter on it.
    """

    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("incident_id", "document", "addressee"),
        Index(None, "la_code", "due", "id"),
        Index(None, "status", "due", "id"),
        Index(None, "addressee", "due", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    la_code: Mapped[str] = mapped_column(_LA)
    document: Mapped[str] = mapped_column(String(60))
    addressee: Mapped[str] = mapped_column(String(40))
    due: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(20))
    explanation: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    alerted_status: Mapped[str | None] = mapped_column(String(20))
    """The at-risk status (``due_soon``, ``overdue``) last alerted; a plan may store one
    without alerting, so the deadline check alerts on this, not on a change of ``status``."""
    satisfied_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """An outbox row: one document to one addressee, written with the change that caused it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index(None, "la_code", "status", "created_at"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "addressee", "status"),
    )

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    la_code: Mapped[str] = mapped_column(_LA)
    obligation_id: Mapped[int | None] = mapped_column(
        ForeignKey("obligations.id", ondelete="SET NULL"), index=True
    )
    document: Mapped[str] = mapped_column(String(60))
    addressee: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    first_attempt_at: Mapped[dt.datetime | None]
    acknowledged_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    last_response: Mapped[str | None] = mapped_column(String(1000))
    media_type: Mapped[str] = mapped_column(String(100), default="application/json")
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of exactly the bytes to send."""
    payload_sha256: Mapped[str] = mapped_column(_SHA256)
    """SHA-256 of the plaintext payload: what the receipt attests."""
    addressee_reference: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(20))
    """The channel its route chose when it was first tried (``csins``: a task for a person);
    null until then, and for deliveries made before routes existed."""
    submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("assisted_submissions.id"), index=True
    )
    """The recorded assisted submission that acknowledged it (``csins`` only)."""
    job_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    obligation: Mapped[Obligation | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        order_by="DeliveryAttempt.number", cascade="all, delete-orphan", passive_deletes=True
    )


class AssistedSubmission(Base):
    """A submission a person made on the national online service (CSINS), as recorded here: it
    acknowledges every delivery of one document version routed to ``csins`` (DESIGN.md §6).

    ``submitted_by`` names a member of the LA's staff, never a child; the confirmation
    reference is the online service's.
    """

    __tablename__ = "assisted_submissions"
    __table_args__ = (Index(None, "la_code", "recorded_at"),)

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    la_code: Mapped[str] = mapped_column(_LA)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    document: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    confirmation_reference: Mapped[str] = mapped_column(String(100))
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_key_id: Mapped[int | None] = mapped_column(Integer)
    """The API key (or admin-page session's key) that recorded it (no foreign key, as audit)."""


class DeliveryAttempt(Base):
    """One try at sending a delivery: when, and how the addressee answered."""

    __tablename__ = "delivery_attempts"

    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    status_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(String(1000))


IMPORT_STATUSES = ("queued", "running", "done", "failed")
"""States of an import (DESIGN.md §7: imports run in the background)."""


class ImportRecord(Base):
    """An export file converted through ``POST /imports``: its hash, counts and row errors.

    Row errors are encrypted: a validation message may quote the value it refused (an NHS number).
    So is the upload's filename, sealed with them: exports are often named after the child
    ("SI notification - <name> DOB <date>.csv"), and the upload itself, kept sealed only until
    the import has run. The SHA-256 and size, not personal, stay clear, as do the counts that
    show its progress.
    """

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(_in("status", IMPORT_STATUSES), name="status"),
        Index(None, "la_code", "created_at"),
        Index(None, "status"),
    )

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    la_code: Mapped[str] = mapped_column(_LA)
    sha256: Mapped[str] = mapped_column(_SHA256)
    size: Mapped[int] = mapped_column(BigInteger)
    system: Mapped[str] = mapped_column(String(20))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    incidents_created: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    row_errors: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of the import's detail (:class:`adapter.store.imports.ImportDetail`): the
    upload's filename, the row errors and incident outcomes kept, and their totals."""
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    created_by_role: Mapped[str | None] = mapped_column(String(20))
    """The role of the key that uploaded it: the job submits as that key would."""
    upload: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Ciphertext of the uploaded file, until the import has run (then NULL)."""
    rows_total: Mapped[int | None] = mapped_column(Integer)
    """Data rows in the file (counted before the import was accepted): a progress bar's end."""
    incidents_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    incidents_conflicting: Mapped[int] = mapped_column(Integer, default=0)
    incidents_done: Mapped[int] = mapped_column(Integer, default=0)
    """Conversion results (incidents and rejected rows) written so far, in file order: where a
    run taken over after its worker died resumes."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Runs started; a run writes only while the import is still its own."""
    heartbeat_at: Mapped[dt.datetime | None]
    """When the running run last wrote: one silent for long has lost its worker."""
    finished_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """An append-only audit log line: who did what to which object. Never personal data."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "la_code", "at"),)

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    la_code: Mapped[str | None] = mapped_column(_LA)
    key_id: Mapped[int | None] = mapped_column(Integer)
    """The acting API key (no foreign key: the log outlives the keys)."""
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Receipt(Base):
    """One signed receipt per acknowledged delivery, chained (DESIGN.md §6).

    Holds no personal data: the JWS carries hashes, references and times. ``delivery_id`` is
    unique, so a delivery can never have two receipts; ``sequence`` is unique, so two workers
    cannot both extend the log at the same place.
    """

    __tablename__ = "receipts"
    __table_args__ = (Index(None, "la_code", "acknowledged_at"),)

    id: Mapped[str] = mapped_column(_UUID, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, unique=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id"), unique=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id"), index=True)
    la_code: Mapped[str] = mapped_column(_LA)
    document: Mapped[str] = mapped_column(String(60))
    addressee: Mapped[str] = mapped_column(String(40))
    on_time: Mapped[bool] = mapped_column(Boolean)
    acknowledged_at: Mapped[dt.datetime]
    jws: Mapped[str] = mapped_column(Text)
    chain_hash: Mapped[str] = mapped_column(_SHA256)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReceiptLogHead(Base):
    """The head of the receipt log: one row, locked while a receipt is appended."""

    __tablename__ = "receipt_log_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    head_sha256: Mapped[str] = mapped_column(_SHA256)


class ReceiptCheckpoint(Base):
    """A signed statement of the log's size and head hash at a moment (tail-rewrite evidence)."""

    __tablename__ = "receipt_checkpoints"

    id: Mapped[int] = mapped_column(_BIGINT_ID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    head_sha256: Mapped[str] = mapped_column(_SHA256)
    jws: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class FeedToken(Base):
    """A calendar feed token (issue 18): lets one person's calendar read one LA's deadlines.

    Calendar clients cannot send a bearer header, so the token travels in the feed's URL; like
    an API key, only its public prefix and the SHA-256 of the whole token are stored. It reads
    the deadline feed and nothing else.
    """

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(_SHA256)
    la_code: Mapped[str] = mapped_column(_LA, index=True)
    label: Mapped[str] = mapped_column(String(200))
    """Whose calendar it is for (a member of staff or a team), so an admin knows which to revoke."""
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    last_used_at: Mapped[dt.datetime | None]


class DigestRun(Base):
    """One LA's daily deadline digest for one London day (issue 18): at most one is sent.

    The unique ``(la_code, day)`` is the claim: whichever scheduler's job inserts the row sends
    the day's digest; a claim left by a job that died before sending expires after a while, so
    the digest is still sent, and ``sent_at`` set once sent ends the day for that LA.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("la_code", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_code: Mapped[str] = mapped_column(_LA)
    day: Mapped[dt.date] = mapped_column(Date)
    claimed_at: Mapped[dt.datetime | None]
    """When a job took the day on; None once a failed send gave it up."""
    sent_at: Mapped[dt.datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    """``sent``, or ``nothing`` when there was nothing to say; None while claimed or after a
    failure (the next run tries again)."""
    items: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(String(200))
