"""``db reencrypt`` when some values cannot be decrypted: the rest still move, the others are named.

An operator who rotates ``old → mid → new`` and drops ``old`` before re-encrypting leaves rows no
configured key opens. Those are reported with their table, row and key id (exit 2); every value
that can be decrypted is re-encrypted and committed regardless.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, text, update

from adapter.cli.db import db as db_group
from adapter.crypto import Keyring, format_key, new_key
from adapter.store.database import Database
from adapter.store.models import Child, IncidentVersion
from adapter.store.new_incidents import create_incident
from adapter.store.rekey import Unreadable, reencrypt
from tests.store.factories import make_record

OLD, MID, NEW = (("old", new_key()), ("mid", new_key()), ("new", new_key()))
"""Three generations of encryption key (id, bytes)."""


def incident_under(database: Database, key: tuple[str, bytes], reference: str) -> str:
    """An incident (one version, one child: two sealed values) encrypted under ``key``."""
    with database.session_scope() as session:
        return create_incident(
            session, Keyring([key]), la_scope="812", record=make_record(reference=reference)
        ).incident.id


def stored_kids(database: Database) -> dict[str, list[str]]:
    """The key id of every sealed value, by incident id, read straight from the tables."""
    kids: dict[str, list[str]] = {}
    with database.engine.connect() as connection:
        for query in (
            "SELECT incident_id, payload FROM incident_versions",
            "SELECT incident_id, details FROM children",
        ):
            for incident_id, value in connection.execute(text(query)):
                kids.setdefault(incident_id, []).append(Keyring.key_id_of(bytes(value)))
    return kids


def cli_env(database: Database, data_dir: Path, *keys: tuple[str, bytes]) -> dict[str, str]:
    """The environment of an operator's shell: this database, and ``keys`` configured."""
    return {
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "CSINS_DATA_DIR": str(data_dir),
        "CSINS_ENCRYPTION_KEYS": ",".join(format_key(kid, key) for kid, key in keys),
    }


def test_values_under_a_dropped_key_are_named_and_the_rest_re_encrypted(db):
    lost = incident_under(db, OLD, "NEL-2026-001")
    kept = incident_under(db, MID, "NEL-2026-002")
    with db.session_scope() as session:
        done = reencrypt(session, Keyring([NEW, MID]))
    assert done.counts["incident_versions.payload"] == 1
    assert done.counts["children.details"] == 1
    assert done.unreadable_count == 2
    problem = "its key is not among the configured keys"
    assert done.unreadable == [
        Unreadable("incident_versions.payload", f"{lost}/1", "old", problem),
        Unreadable("children.details", f"{lost}/0", "old", problem),
    ]
    assert stored_kids(db) == {lost: ["old", "old"], kept: ["new", "new"]}


def test_a_tampered_value_under_a_configured_key_is_named_not_raised(db):
    first = incident_under(db, MID, "NEL-2026-001")
    second = incident_under(db, MID, "NEL-2026-002")
    with db.session_scope() as session:
        payload = session.scalars(
            select(IncidentVersion.payload).where(IncidentVersion.incident_id == first)
        ).one()
        session.execute(
            update(IncidentVersion)
            .where(IncidentVersion.incident_id == second)
            .values(payload=payload)
        )
        session.execute(update(Child).where(Child.incident_id == first).values(details=b"junk"))
    with db.session_scope() as session:
        done = reencrypt(session, Keyring([NEW, MID]))
    assert done.counts == {
        "incident_versions.payload": 1,
        "children.details": 1,
        "events.data": 0,
        "deliveries.payload": 0,
        "imports.row_errors": 0,
        "imports.upload": 0,
    }
    assert sorted(done.unreadable, key=lambda value: value.column) == [
        Unreadable("children.details", f"{first}/0", None, "not a ciphertext of this service"),
        Unreadable(
            "incident_versions.payload",
            f"{second}/1",
            "mid",
            "it fails authentication (tampered, or stored under another row or column)",
        ),
    ]


def test_only_the_first_unreadable_values_are_kept_but_all_are_counted(db):
    for number in range(3):
        incident_under(db, OLD, f"NEL-2026-{number:03d}")
    with db.session_scope() as session:
        done = reencrypt(session, Keyring([NEW]), batch_size=2, keep=4)
    assert (len(done.unreadable), done.unreadable_count) == (4, 6)


def test_the_cli_exits_2_with_a_summary_and_one_line_per_value(db, tmp_path):
    lost = incident_under(db, OLD, "NEL-2026-001")
    kept = incident_under(db, MID, "NEL-2026-002")
    result = CliRunner().invoke(db_group, ["reencrypt"], env=cli_env(db, tmp_path, NEW, MID))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 2, result.output
    assert "incident_versions.payload: 1 re-encrypted" in result.stdout
    assert "All values are now under key" not in result.stdout
    assert result.stderr.splitlines() == [
        "Error: 2 stored values cannot be decrypted with the configured keys and were left "
        "unchanged; every other value is now under key 'new'. Configure the keys named below "
        "(after the current one) and run 'csins-adapter db reencrypt' again.",
        f"  incident_versions.payload row {lost}/1 (key 'old'): its key is not among the "
        "configured keys",
        f"  children.details row {lost}/0 (key 'old'): its key is not among the configured keys",
    ]
    assert stored_kids(db) == {lost: ["old", "old"], kept: ["new", "new"]}  # committed


def test_the_cli_lists_at_most_20_values_and_counts_the_rest(db, tmp_path):
    for number in range(11):
        incident_under(db, OLD, f"NEL-2026-{number:03d}")
    result = CliRunner().invoke(db_group, ["reencrypt"], env=cli_env(db, tmp_path, NEW))
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: 22 stored values cannot be decrypted")
    assert len(lines) == 1 + 20 + 1
    assert lines[-1] == "  ... and 2 more"


def test_the_cli_still_says_all_values_moved_when_they_did(db, tmp_path):
    incident_under(db, MID, "NEL-2026-001")
    result = CliRunner().invoke(db_group, ["reencrypt"], env=cli_env(db, tmp_path, NEW, MID))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "All values are now under key 'new'."
    assert result.stderr == ""
