"""Re-encryption: rewrite every sealed column under the keyring's current key (key rotation).

Rotation is: put the new key first in ``CSINS_ENCRYPTION_KEYS`` (old ones after it), deploy,
run ``csins-adapter db reencrypt``, then drop the old key once it reports nothing left to do.

A value no configured key decrypts (its key was dropped too early, or the value was tampered
with) is left as it is and reported with its table, row and key id, while every other value is
still re-encrypted: one lost key must not hold back the rotation of everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from adapter.store.crypto import DecryptionError, Keyring
from adapter.store.sealing import SEALED_COLUMNS

BATCH_SIZE = 200
"""Rows read per query while re-encrypting (rows)."""

UNREADABLE_KEPT = 20
"""Unreadable values described one by one (values); beyond these only the count grows."""


@dataclass(frozen=True)
class Unreadable:
    """A stored value that could not be decrypted: where it is, under which key, and why."""

    column: str
    """``table.column``, e.g. ``incident_versions.payload``."""
    row: str
    """The row's primary key, its parts joined by ``/``."""
    kid: str | None
    """The key id the ciphertext names; None when it is not a ciphertext of this service."""
    problem: str


@dataclass
class Reencryption:
    """What :func:`reencrypt` did: values rewritten per ``table.column``, and what it could not."""

    counts: dict[str, int] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    """The first :data:`UNREADABLE_KEPT` (or the caller's ``keep``) values left unreadable."""
    unreadable_count: int = 0
    """How many values were left unreadable in all."""


def reencrypt(
    session: Session,
    keyring: Keyring,
    *,
    batch_size: int = BATCH_SIZE,
    keep: int = UNREADABLE_KEPT,
) -> Reencryption:
    """Re-encrypt, in the session's transaction, every ciphertext not under the current key.

    Walks each table in primary-key order, a batch at a time, expunging rows once flushed so
    memory stays flat. A value that cannot be decrypted is counted, described (the first
    ``keep`` of them) and left unchanged; the rest are rewritten all the same.
    """
    done = Reencryption()
    for model, column, aad_of in SEALED_COLUMNS:
        mapper = model.__mapper__
        key_columns = list(mapper.primary_key)
        key_names = [mapper.get_property_by_column(c).key for c in key_columns]
        name = f"{model.__tablename__}.{column}"
        done.counts[name] = 0
        last: tuple[Any, ...] | None = None
        while True:
            statement = select(model).order_by(*key_columns).limit(batch_size)
            if last is not None:
                statement = statement.where(tuple_(*key_columns) > tuple_(*last))
            rows = session.scalars(statement).all()
            if not rows:
                break
            for row in rows:
                try:
                    if _reencrypt_value(row, column, aad_of(row), keyring):
                        done.counts[name] += 1
                except _Unreadable as exc:
                    done.unreadable_count += 1
                    if len(done.unreadable) < keep:
                        row_id = "/".join(str(getattr(row, key)) for key in key_names)
                        done.unreadable.append(Unreadable(name, row_id, exc.kid, exc.problem))
            session.flush()
            last = tuple(getattr(rows[-1], key) for key in key_names)
            for row in rows:
                session.expunge(row)
    return done


class _Unreadable(Exception):
    """A value :func:`_reencrypt_value` could not decrypt; :func:`reencrypt` records it."""

    def __init__(self, kid: str | None, problem: str) -> None:
        super().__init__(problem)
        self.kid, self.problem = kid, problem


def _reencrypt_value(row: Any, column: str, associated_data: str, keyring: Keyring) -> bool:
    """Rewrite ``row.column`` under the current key; False when it already is."""
    ciphertext = getattr(row, column)
    if ciphertext is None:  # an optional sealed column left empty (an import's upload once run)
        return False
    try:
        kid = keyring.key_id_of(ciphertext)
    except DecryptionError:
        raise _Unreadable(None, "not a ciphertext of this service") from None
    if kid == keyring.current_kid:
        return False
    if kid not in keyring.kids:
        raise _Unreadable(kid, "its key is not among the configured keys")
    try:
        plaintext = keyring.decrypt(ciphertext, associated_data)
    except DecryptionError:
        raise _Unreadable(
            kid, "it fails authentication (tampered, or stored under another row or column)"
        ) from None
    setattr(row, column, keyring.encrypt(plaintext, associated_data))
    return True
