"""``csins-adapter feeds create|list|revoke`` against real databases (issue 18)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from adapter.cli.db import db as db_group
from adapter.cli.feeds import feeds as feeds_group
from adapter.store.database import Database
from adapter.store.feed_tokens import verify_token
from config.settings import load_settings

TOKEN_LINE = re.compile(r"^csinsfeed_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def cli_env(empty_database_url, tmp_path):
    return {"DATABASE_URL": empty_database_url, "CSINS_DATA_DIR": str(tmp_path / "var")}


def run(group, args, env):
    return CliRunner().invoke(group, args, env=env, catch_exceptions=False)


def verified_la(env, token):
    database = Database.from_settings(load_settings(env))
    try:
        with database.session_scope() as session:
            reader = verify_token(session, token)
            return None if reader is None else reader.la_code
    finally:
        database.dispose()


def test_a_feed_token_is_printed_once_verifies_and_can_be_revoked(cli_env):
    assert run(db_group, ["upgrade"], cli_env).exit_code == 0
    created = run(feeds_group, ["create", "--la", "812", "--label", "Compliance team"], cli_env)
    assert created.exit_code == 0, created.output
    token = created.stdout.splitlines()[-1]
    assert TOKEN_LINE.match(token)
    assert verified_la(cli_env, token) == "812"

    prefix, secret = token.split("_")[1], token.split("_", 2)[2]
    listed = run(feeds_group, ["list"], cli_env).stdout
    assert prefix in listed and "Compliance team" in listed and secret not in listed
    assert run(feeds_group, ["revoke", prefix], cli_env).exit_code == 0
    assert "revoked" in run(feeds_group, ["list"], cli_env).stdout
    assert verified_la(cli_env, token) is None
    assert run(feeds_group, ["revoke", "0" * 12], cli_env).exit_code == 1


def test_a_feed_token_is_for_one_la(cli_env):
    assert run(db_group, ["upgrade"], cli_env).exit_code == 0
    refused = run(feeds_group, ["create", "--la", "*", "--label", "Everyone"], cli_env)
    assert refused.exit_code == 1 and "3-digit" in refused.output
