"""The tables of an incident's life (DESIGN.md §2), as SQLAlchemy 2 typed rows.

Incidents, their versions, children and lifecycle events; the obligations (the deadline
tracker's rows); the deliveries (the outbox), their attempts and the assisted submissions that
acknowledge some; the import runs; the daily digests. The API keys, feed tokens and audit log
are in :mod:`adapter.store.access_models`, the receipt log in :mod:`adapter.store.receipt_models`;
importing this module declares them all, so ``Base.metadata`` (Alembic's target) is complete.
Every class is named ``...Row``: the domain's ``Obligation`` and the envelope's ``Delivery`` are
other things.

Columns named ``payload``, ``details`` and ``data`` hold AES-GCM ciphertext
(``adapter.store.crypto``), encrypted and decrypted by the repositories with associated data
naming the row; every other column is free of personal data so that it can be indexed, filtered
and shown to admins. ``la_code`` is copied onto obligations and deliveries so that every list
query can be scoped to one local authority without a join.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from adapter.clock import utcnow

# Importing the other table modules declares their rows on Base.metadata too.
from adapter.store import access_models, receipt_models  # noqa: F401
from adapter.store.types import LA_CODE, SHA256_HEX, UUID_TEXT, Base, one_of

__all__ = [
    "DELIVERY_STATUSES",
    "IMPORT_STATUSES",
    "AssistedSubmissionRow",
    "Base",
    "ChildRow",
    "DeliveryAttemptRow",
    "DeliveryRow",
    "DigestRunRow",
    "ImportRunRow",
    "IncidentRow",
    "IncidentVersionRow",
    "LifecycleEventRow",
    "LocalAuthorityRow",
    "ObligationRow",
]

DELIVERY_STATUSES = ("queued", "sending", "retrying", "acknowledged", "failed")
"""States of an outbox row (DESIGN.md §6, §7)."""

IMPORT_STATUSES = ("queued", "running", "done", "failed")
"""States of an import (DESIGN.md §7: imports run in the background)."""


class LocalAuthorityRow(Base):
    """A local authority seen in a submitted record or an API key (code: the 3-digit DfE code)."""

    __tablename__ = "local_authorities"

    code: Mapped[str] = mapped_column(LA_CODE, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IncidentRow(Base):
    """One notification (§2); its record lives encrypted in :class:`IncidentVersionRow` rows."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("la_code", "reference"),
        UniqueConstraint("la_code", "idempotency_key"),
        Index(None, "la_code", "status"),
        Index(None, "la_code", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    la_code: Mapped[str] = mapped_column(ForeignKey("local_authorities.code"))
    reference: Mapped[str] = mapped_column(String(100))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(40))
    content_sha256: Mapped[str] = mapped_column(SHA256_HEX)
    """SHA-256 of the canonical current record: an identical resubmission is a no-op."""
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    children: Mapped[list[ChildRow]] = relationship(
        order_by="ChildRow.index", cascade="all, delete-orphan", passive_deletes=True
    )


class IncidentVersionRow(Base):
    """One version of an incident's record: 1 as submitted, then one per amendment (§2)."""

    __tablename__ = "incident_versions"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of the canonical record JSON."""
    payload_sha256: Mapped[str] = mapped_column(SHA256_HEX)
    reason: Mapped[str] = mapped_column(String(200))
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChildRow(Base):
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


class LifecycleEventRow(Base):
    """A lifecycle event (DESIGN.md §7); its fields, and any document, encrypted in ``data``."""

    __tablename__ = "events"
    __table_args__ = (Index(None, "incident_id", "on"),)

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    on: Mapped[dt.date] = mapped_column(Date)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    document_sha256: Mapped[str | None] = mapped_column(SHA256_HEX)
    created_by_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ObligationRow(Base):
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
    la_code: Mapped[str] = mapped_column(LA_CODE)
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


class DeliveryRow(Base):
    """An outbox row: one document to one addressee, written with the change that caused it."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(one_of("status", DELIVERY_STATUSES), name="status"),
        Index(None, "la_code", "status", "created_at"),
        Index(None, "status", "next_attempt_at"),
        Index(None, "addressee", "status"),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    la_code: Mapped[str] = mapped_column(LA_CODE)
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
    payload_sha256: Mapped[str] = mapped_column(SHA256_HEX)
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

    obligation: Mapped[ObligationRow | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttemptRow]] = relationship(
        order_by="DeliveryAttemptRow.number", cascade="all, delete-orphan", passive_deletes=True
    )


class AssistedSubmissionRow(Base):
    """A submission a person made on the national online service (CSINS), as recorded here: it
    acknowledges every delivery of one document version routed to ``csins`` (DESIGN.md §6).

    ``submitted_by`` names a member of the LA's staff, never a child; the confirmation
    reference is the online service's.
    """

    __tablename__ = "assisted_submissions"
    __table_args__ = (Index(None, "la_code", "recorded_at"),)

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    la_code: Mapped[str] = mapped_column(LA_CODE)
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


class DeliveryAttemptRow(Base):
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


class ImportRunRow(Base):
    """An export file converted through ``POST /imports``: its hash, counts and row errors.

    Row errors are encrypted: a validation message may quote the value it refused (an NHS number).
    So is the upload's filename, sealed with them: exports are often named after the child
    ("SI notification - <name> DOB <date>.csv"), and the upload itself, kept sealed only until
    the import has run. The SHA-256 and size, not personal, stay clear, as do the counts that
    show its progress.
    """

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint(one_of("status", IMPORT_STATUSES), name="status"),
        Index(None, "la_code", "created_at"),
        Index(None, "status"),
    )

    id: Mapped[str] = mapped_column(UUID_TEXT, primary_key=True)
    la_code: Mapped[str] = mapped_column(LA_CODE)
    sha256: Mapped[str] = mapped_column(SHA256_HEX)
    size: Mapped[int] = mapped_column(BigInteger)
    system: Mapped[str] = mapped_column(String(20))
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    incidents_created: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    row_errors: Mapped[bytes] = mapped_column(LargeBinary)
    """Ciphertext of the import's detail (:class:`adapter.store.import_runs.ImportDetail`): the
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


class DigestRunRow(Base):
    """One LA's daily deadline digest for one London day (issue 18): at most one is sent.

    The unique ``(la_code, day)`` is the claim: whichever scheduler's job inserts the row sends
    the day's digest; a claim left by a job that died before sending expires after a while, so
    the digest is still sent, and ``sent_at`` set once sent ends the day for that LA.
    """

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("la_code", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    la_code: Mapped[str] = mapped_column(LA_CODE)
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
