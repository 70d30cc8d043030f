"""API keys: created once, stored hashed, verified in constant time, revocable (DESIGN.md §7)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from adapter.store import api_keys
from adapter.store.access_models import ApiKeyRow
from adapter.store.api_keys import ApiKeyError, create_key, revoke_key, verify_key
from adapter.store.tokens import hash_token


def test_create_verify_revoke(db):
    with db.session_scope() as session:
        new = create_key(session, la_code="812", role="local_authority", name="Mosaic bridge")
    assert new.key.startswith(f"csins_{new.prefix}_") and len(new.key) > 50
    assert new.key not in repr(new)
    with db.session_scope() as session:
        principal = verify_key(session, new.key)
        assert principal is not None
        assert (principal.key_id, principal.la_scope, principal.role) == (
            new.key_id,
            "812",
            "local_authority",
        )
        assert session.get(ApiKeyRow, new.key_id).last_used_at is not None
    with db.session_scope() as session:
        assert revoke_key(session, new.prefix)
        assert not revoke_key(session, "0" * 12)
    with db.session_scope() as session:
        assert verify_key(session, new.key) is None


def test_only_the_prefix_and_a_hash_are_stored(db):
    with db.session_scope() as session:
        new = create_key(session, la_code="*", role="admin")
    secret = new.key.split("_", 2)[2]
    with db.engine.connect() as connection:
        stored = " ".join(
            str(value)
            for row in connection.execute(text("SELECT * FROM api_keys"))
            for value in row
        )
    assert secret not in stored and new.key not in stored
    assert hash_token(new.key) in stored and new.prefix in stored


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret, right prefix
        lambda key: key.replace("csins_", "other_"),
        lambda key: key.split("_", 2)[0] + "_" + "f" * 12 + "_" + key.split("_", 2)[2],
        lambda key: "",
        lambda key: "csins_",
        lambda key: key[:20],
    ],
)
def test_wrong_keys_do_not_verify(db, tamper):
    with db.session_scope() as session:
        new = create_key(session, la_code="812", role="compliance")
    with db.session_scope() as session:
        assert verify_key(session, tamper(new.key)) is None


@pytest.mark.parametrize(
    ("la_code", "role", "message"),
    [
        ("*", "local_authority", "only for the admin role"),
        ("*", "compliance", "only for the admin role"),
        ("81", "local_authority", "3-digit"),
        ("812", "superuser", "role"),
    ],
)
def test_invalid_key_requests_are_refused(db, la_code, role, message):
    with db.session_scope() as session, pytest.raises(ApiKeyError, match=message):
        create_key(session, la_code=la_code, role=role)


def test_last_used_is_written_at_most_once_a_minute(db):
    with db.session_scope() as session:
        new = create_key(session, la_code="812", role="agency")
    start = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
    for offset, expected in ((0, start), (30, start), (61, start + dt.timedelta(seconds=61))):
        with db.session_scope() as session:
            verify_key(session, new.key, now=start + dt.timedelta(seconds=offset))
        with db.session_scope() as session:
            assert session.scalars(select(ApiKeyRow)).one().last_used_at == expected


def test_roles_match_the_design():
    assert api_keys.ROLES == ("local_authority", "agency", "admin", "compliance")
