"""Re-encryption: rewrite every sealed column under the keyring's current key (key rotation).

Rotation is: put the new key first in ``CSINS_ENCRYPTION_KEYS`` (old ones after it), deploy,
run ``csins-adapter db reencrypt``, then drop the old key once it reports nothing left to do.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from adapter.crypto import Keyring
from adapter.store.sealing import SEALED_COLUMNS

BATCH_SIZE = 200
"""Rows read per query while re-encrypting (rows)."""


def reencrypt(
    session: Session, keyring: Keyring, *, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Re-encrypt, in the session's transaction, every ciphertext not under the current key.

    Walks each table in primary-key order, a batch at a time, expunging rows once flushed so
    memory stays flat. Returns how many values were rewritten per ``table.column``.
    """
    counts: dict[str, int] = {}
    for model, column, aad_of in SEALED_COLUMNS:
        mapper = model.__mapper__
        key_columns = list(mapper.primary_key)
        key_names = [mapper.get_property_by_column(c).key for c in key_columns]
        counts[f"{model.__tablename__}.{column}"] = 0
        last: tuple[Any, ...] | None = None
        while True:
            statement = select(model).order_by(*key_columns).limit(batch_size)
            if last is not None:
                statement = statement.where(tuple_(*key_columns) > tuple_(*last))
            rows = session.scalars(statement).all()
            if not rows:
                break
            for row in rows:
                ciphertext = getattr(row, column)
                if keyring.is_current(ciphertext):
                    continue
                associated_data = aad_of(row)
                plaintext = keyring.decrypt(ciphertext, associated_data)
                setattr(row, column, keyring.encrypt(plaintext, associated_data))
                counts[f"{model.__tablename__}.{column}"] += 1
            session.flush()
            last = tuple(getattr(rows[-1], name) for name in key_names)
            for row in rows:
                session.expunge(row)
    return counts
