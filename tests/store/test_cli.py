"""``csins-adapter db upgrade`` and ``keys create|list|revoke`` against real databases."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from adapter.apikeys import verify_key
from adapter.cli.db import db as db_group
from adapter.cli.keys import keys as keys_group
from adapter.crypto import format_key, new_key
from adapter.store.database import Database
from adapter.store.incidents import current_record, get_incident
from adapter.store.migrate import head_revision
from adapter.store.new_incidents import create_incident
from config.settings import load_settings
from tests.store.factories import make_record

KEY_LINE = re.compile(r"^csins_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def cli_env(empty_database_url, tmp_path):
    """The environment a CLI user would have: the module's database, a private data dir."""
    return {"DATABASE_URL": empty_database_url, "CSINS_DATA_DIR": str(tmp_path / "var")}


def run(group, args, env):
    result = CliRunner().invoke(group, args, env=env, catch_exceptions=False)
    return result


def test_keys_create_prints_the_key_alone_on_the_last_line_and_it_verifies(cli_env):
    assert run(db_group, ["upgrade"], cli_env).exit_code == 0
    result = run(
        keys_group,
        ["create", "--la", "812", "--role", "local_authority", "--name", "Mosaic bridge"],
        cli_env,
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.splitlines()[-1]
    assert KEY_LINE.match(key)
    assert key not in "\n".join(result.stdout.splitlines()[:-1])
    database = Database.from_settings(load_settings(cli_env))
    try:
        with database.session_scope() as session:
            principal = verify_key(session, key)
            assert principal is not None and (principal.la_code, principal.role) == (
                "812",
                "local_authority",
            )
    finally:
        database.dispose()

    listed = run(keys_group, ["list"], cli_env).stdout
    assert key.split("_")[1] in listed and key.split("_", 2)[2] not in listed
    assert run(keys_group, ["revoke", key.split("_")[1]], cli_env).exit_code == 0
    assert "revoked" in run(keys_group, ["list"], cli_env).stdout
    assert run(keys_group, ["revoke", "0" * 12], cli_env).exit_code == 1


def test_an_all_la_key_is_admin_only(cli_env):
    assert run(db_group, ["upgrade"], cli_env).exit_code == 0
    refused = run(keys_group, ["create", "--la", "*", "--role", "local_authority"], cli_env)
    assert refused.exit_code == 1 and "admin" in refused.output
    admin = run(keys_group, ["create", "--la", "*", "--role", "admin"], cli_env)
    assert admin.exit_code == 0 and "every local authority" in admin.stdout
    assert KEY_LINE.match(admin.stdout.splitlines()[-1])


def test_db_upgrade_creates_the_embedded_database_in_a_new_data_dir(tmp_path):
    env = {"DATABASE_URL": "", "CSINS_DATA_DIR": str(tmp_path / "new" / "var")}
    before = run(keys_group, ["create", "--la", "812", "--role", "admin"], env)
    assert before.exit_code == 1 and "db upgrade" in before.output
    result = run(db_group, ["upgrade"], env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "var" / "csins.db").exists()
    assert f"at revision {head_revision()}" in result.stdout
    assert f"newest: {head_revision()}" in run(db_group, ["current"], env).stdout
    assert not (tmp_path / "new" / "var" / "dev-encryption.key").exists()  # no key was needed


def test_db_reencrypt_moves_rows_to_the_new_key(tmp_path):
    old, new = format_key("old", new_key()), format_key("new", new_key())
    env = {"DATABASE_URL": "", "CSINS_DATA_DIR": str(tmp_path), "CSINS_ENCRYPTION_KEYS": old}
    assert run(db_group, ["upgrade"], env).exit_code == 0
    database = Database.from_settings(load_settings(env))
    with database.session_scope() as session:
        incident_id = create_incident(
            session, database.keyring, la_scope="812", record=make_record()
        ).incident.id
    database.dispose()
    rotated = dict(env, CSINS_ENCRYPTION_KEYS=f"{new},{old}")
    result = run(db_group, ["reencrypt"], rotated)
    assert result.exit_code == 0, result.output
    assert "incident_versions.payload: 1 re-encrypted" in result.stdout
    database = Database.from_settings(load_settings(dict(env, CSINS_ENCRYPTION_KEYS=new)))
    try:
        with database.session_scope() as session:
            incident = get_incident(session, "812", incident_id)
            record = current_record(session, database.keyring, incident)
            assert record["incident"]["reference"] == "NEL-2026-014"
    finally:
        database.dispose()


def test_bad_settings_are_a_clean_error(tmp_path):
    result = run(
        db_group, ["upgrade"], {"DATABASE_URL": "mysql://x/y", "CSINS_DATA_DIR": str(tmp_path)}
    )
    assert result.exit_code == 1 and "DATABASE_URL" in result.output


UNREACHABLE = "postgresql+psycopg://csins:hunter2-secret@127.0.0.1:1/csins"
"""A PostgreSQL URL with a password, on a port nothing listens on."""


@pytest.mark.parametrize(
    ("group", "args"),
    [
        (db_group, ["upgrade"]),
        (db_group, ["current"]),
        (db_group, ["reencrypt"]),
        (keys_group, ["list"]),
        (keys_group, ["create", "--la", "812", "--role", "admin"]),
        (keys_group, ["revoke", "0" * 12]),
    ],
)
def test_an_unreachable_database_is_one_line_without_the_password_and_exit_2(tmp_path, group, args):
    result = run(group, args, {"DATABASE_URL": UNREACHABLE, "CSINS_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: cannot use the database (PostgreSQL 127.0.0.1/csins): ")
    assert "hunter2" not in result.output


def test_a_file_that_is_not_a_database_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "csins.db").write_bytes(b"not a database, whatever its name says\n" * 4)
    result = run(db_group, ["current"], {"DATABASE_URL": "", "CSINS_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line == f"Error: cannot use the database (SQLite {tmp_path / 'csins.db'}): " + (
        "file is not a database"
    )


def test_a_data_dir_that_cannot_be_made_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "file").write_text("")
    env = {"DATABASE_URL": "", "CSINS_DATA_DIR": str(tmp_path / "file" / "var")}
    result = run(keys_group, ["list"], env)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: cannot open the database: ") and "Not a directory" in line
