"""The restore drill of docs/deploy.md ("Backup and restore"), on SQLite and PostgreSQL.

The service delivers and signs receipts with a real worker; the database is backed up with the
documented command while the service runs, restored with the documented command into a new
database and data dir (the keys put back beside it), and then ``csins-adapter receipts audit``
(the CLI, as the operator runs it) must pass, and the children's records must read back the
same with the same keys. A backup older than the witness file's last checkpoint is reported as
the documentation says, and the documented way on from there (a new witness file holding the
checkpoints the restored log still matches) leaves a log that audits intact again, while the
deliveries the backup predates are sent again under their own ids.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from adapter.app import create_app
from adapter.store.models import Receipt
from config.settings import load_settings
from tests.e2e.conftest import Stack, make_record
from tests.support import backups

SIGNING_KEYS = "receipt-keys"
"""The data dir's folder of generated receipt signing keys (the tests configure no other)."""


def cli(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    """``csins-adapter ARGS`` in a subprocess with ``env``: exit code, stdout, stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "adapter.cli", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@dataclass
class Drill:
    """Backs up the stack's database and restores it into new databases and data dirs; drops
    and stops everything it made afterwards."""

    stack: Stack
    folder: Path
    witness: Path
    env: dict[str, str]
    _databases: list[str] = field(default_factory=list)
    _stacks: list[Stack] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.stack.database.dialect

    def checkpoint(self, env: dict[str, str] | None = None) -> str:
        code, out, err = cli(env or self.env, "receipts", "checkpoint")
        assert code == 0, err
        return out

    def backup(self) -> Path:
        """The documented backup of the running service's database."""
        url = self.stack.database.engine.url.render_as_string(hide_password=False)
        copy = self.folder / f"backup-{uuid.uuid4().hex[:8]}"
        if self.backend == "postgresql":
            backups.backup_postgresql(url, copy)
        else:
            backups.backup_sqlite(Path(make_url(url).database or ""), copy)
        return copy

    def restore(self, copy: Path, *, with_signing_keys: bool = True) -> dict[str, str]:
        """The documented restore into a new database and data dir; the env to run it with."""
        data_dir = self.folder / f"restored-{uuid.uuid4().hex[:8]}"
        data_dir.mkdir()
        if with_signing_keys:  # the keys are backed up on their own, and put back
            keys = Path(self.env["CSINS_DATA_DIR"]) / SIGNING_KEYS
            shutil.copytree(keys, data_dir / SIGNING_KEYS)
        env = {**self.env, "CSINS_DATA_DIR": str(data_dir)}
        if self.backend == "postgresql":
            env["DATABASE_URL"] = self._empty_postgresql()
            backups.restore_postgresql(copy, env["DATABASE_URL"])
        else:
            env.pop("DATABASE_URL")  # SQLite in the data dir, where the copy goes
            backups.restore_sqlite(copy, data_dir)
        code, _, err = cli(env, "db", "upgrade")
        assert code == 0, err
        return env

    def _empty_postgresql(self) -> str:
        server = make_url(self.env["DATABASE_URL"])
        problem = backups.postgresql_tools_problem(server.render_as_string(hide_password=False))
        if problem is not None:
            pytest.skip(f"cannot run the PostgreSQL backup commands here: {problem}")
        name = f"csins_restore_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> None:
        engine = create_engine(self.stack.database.engine.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(statement))
        finally:
            engine.dispose()

    def service(self, env: dict[str, str]) -> Stack:
        """The service again, on a restored database: workers started from it are stopped."""
        settings = load_settings(env=env)
        app = create_app(settings=settings)
        database = app.extensions["csins"].database
        run_dir = self.folder / f"run-{uuid.uuid4().hex[:8]}"
        run_dir.mkdir()
        restored = Stack(
            settings,
            database,
            app.test_client(),
            self.stack.sandbox,
            self.stack.redis,
            env,
            run_dir,
        )
        self._stacks.append(restored)
        return restored

    def close(self) -> None:
        for restored in self._stacks:
            for worker in restored.workers:
                worker.stop()
            restored.database.dispose()
        for name in self._databases:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def drill(stack: Stack, tmp_path: Path) -> Iterator[Drill]:
    """The stack with its witness file outside its data dir, as docs/deploy.md asks."""
    witness = tmp_path / "witness" / "receipt-checkpoints.jsonl"
    stack.env["CSINS_CHECKPOINT_FILE"] = str(witness)
    folder = tmp_path / "drill"
    folder.mkdir()
    found = Drill(stack, folder, witness, stack.env)
    try:
        yield found
    finally:
        found.close()


def submit(stack: Stack, key: str) -> tuple[str, list[str]]:
    """A looked-after child's death (three deliveries): the incident's id and its deliveries."""
    response = stack.client.post(
        "/api/v1/incidents",
        json=make_record(looked_after=True),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.get_json()
    incident_id = response.get_json()["id"]
    return incident_id, stack.delivery_ids(incident_id)


def read_incident(env: dict[str, str], incident_id: str, key: str) -> dict[str, Any]:
    """``GET /api/v1/incidents/{id}`` from a service on ``env``'s database and keys."""
    app = create_app(settings=load_settings(env=env))
    try:
        response = app.test_client().get(
            f"/api/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.get_json()
        found: dict[str, Any] = response.get_json()
        return found
    finally:
        app.extensions["csins"].database.dispose()


def receipts_of(stack: Stack, delivery_ids: list[str]) -> dict[str, str]:
    """Receipt id by delivery id."""
    with stack.database.session_scope() as session:
        rows = session.execute(
            select(Receipt.delivery_id, Receipt.id).where(Receipt.delivery_id.in_(delivery_ids))
        )
        return {delivery_id: receipt_id for delivery_id, receipt_id in rows}


@pytest.mark.slow
def test_a_backup_taken_while_the_service_works_restores_to_an_intact_log(drill: Drill) -> None:
    stack = drill.stack
    key = stack.key()
    stack.start_worker()
    first = [submit(stack, key) for _ in range(2)]
    stack.wait_acknowledged([d for _, ids in first for d in ids])
    assert "checkpoint of 6 receipts" in drill.checkpoint()

    # The worker is delivering the next incidents while the backup is taken.
    later = [submit(stack, key) for _ in range(2)]
    copy = drill.backup()
    stack.wait_acknowledged([d for _, ids in later for d in ids])
    jwks = drill.folder / "jwks.json"
    jwks.write_bytes(stack.client.get("/.well-known/jwks.json").data)

    env = drill.restore(copy)
    code, out, err = cli(env, "receipts", "audit")
    assert code == 0, err
    assert out.startswith("intact: ")
    held = int(out.split()[1])
    assert 6 <= held <= 12
    code, out, err = cli(env, "receipts", "audit", "--checkpoint", drill.witness)
    assert (code, out) == (0, f"intact: {held} receipts, 2 checkpoints\n"), err

    # The children's records decrypt with the same keys: the incident reads back the same.
    for incident_id, _ in first:
        original = stack.client.get(
            f"/api/v1/incidents/{incident_id}", headers={"Authorization": f"Bearer {key}"}
        )
        assert read_incident(env, incident_id, key) == original.get_json()
    assert_every_value_decrypts(env)
    assert_the_published_keys_alone_audit(drill, jwks)


def reencrypt_under_a_drill_key(env: dict[str, str], keys: str) -> tuple[int, str]:
    """docs/deploy.md's decryption check of a scratch copy: ``db reencrypt`` with a throwaway
    key first, then ``keys``, decrypts every stored value to encrypt it again under that key."""
    drill_key = f"drill:{base64.b64encode(os.urandom(32)).decode()}"
    with_drill = {**env, "CSINS_ENCRYPTION_KEYS": f"{drill_key},{keys}"}
    code, out, err = cli(with_drill, "db", "reencrypt")
    return code, out + err


def assert_every_value_decrypts(env: dict[str, str]) -> None:
    """Every sealed value of the restored copy decrypts with the service's keys, and a key of
    the same id but other bytes (a development key generated again) is found out."""
    other_bytes = f"test-1:{base64.b64encode(os.urandom(32)).decode()}"
    code, said = reencrypt_under_a_drill_key(env, other_bytes)
    assert code == 2 and "fails authentication" in said, said
    code, said = reencrypt_under_a_drill_key(env, env["CSINS_ENCRYPTION_KEYS"])
    assert code == 0 and said.endswith("All values are now under key 'drill'.\n"), said


def assert_the_published_keys_alone_audit(drill: Drill, jwks: Path) -> None:
    """Restored without the private signing keys (a new one is generated), the audit with the
    configured keys fails, and the published keys saved beside the backup still verify it."""
    bare = drill.restore(drill.backup(), with_signing_keys=False)
    code, _, err = cli(bare, "receipts", "audit")
    assert code == 1
    last = err.splitlines()[-1]
    assert last.startswith("broken at #") and "is not in the JWKS" in last, err
    code, out, err = cli(bare, "receipts", "audit", "--jwks", jwks)
    assert code == 0 and out.startswith("intact: 12 receipts"), err


@pytest.mark.slow
def test_a_backup_older_than_the_witness_file(drill: Drill) -> None:
    stack = drill.stack
    key = stack.key()
    worker = stack.start_worker()
    _, acknowledged = submit(stack, key)
    stack.wait_acknowledged(acknowledged)
    drill.checkpoint()
    worker.stop()
    _, pending = submit(stack, key)  # queued when the backup is taken
    copy = drill.backup()
    stack.start_worker()
    stack.wait_acknowledged(pending)
    lost = receipts_of(stack, pending)
    assert "checkpoint of 6 receipts" in drill.checkpoint()
    for started in stack.workers:
        started.stop()  # "stop every process" before restoring

    env = drill.restore(copy)
    code, out, err = cli(env, "receipts", "audit")
    assert (code, out) == (0, "intact: 3 receipts, 1 checkpoints\n"), err
    code, out, err = cli(env, "receipts", "audit", "--checkpoint", drill.witness)
    assert (code, out) == (1, "")
    reported = err.splitlines()[-1]  # after the warning that the keys are generated ones
    assert reported.startswith("broken at #4 (missing): the log ends at #3 but a checkpoint")
    assert reported.endswith("covers 6 receipts: #4 to #6 are missing")

    # The documented way on: keep the old file as the record of the gap, and start a new one
    # with the checkpoints the restored log still matches (at most 3 receipts).
    before = drill.witness.with_name("receipt-checkpoints.before-restore.jsonl")
    drill.witness.rename(before)
    backups.keep_checkpoints_up_to(before, 3, drill.witness)
    code, out, err = cli(env, "receipts", "audit", "--checkpoint", drill.witness)
    assert (code, out) == (0, "intact: 3 receipts, 2 checkpoints\n"), err

    # Started again, the service sends the deliveries the backup predates once more, under
    # their own ids (the receiver sees a repeat), and signs each a new receipt.
    restored = drill.service(env)
    restored.start_process("restored-worker", "worker", "--name", f"e2e-{uuid.uuid4().hex[:8]}")
    restored.wait_for(lambda: restored.sweep() >= 1, "the sweeper to find the restored queue")
    restored.wait_acknowledged(pending)
    restored.assert_delivered_once(pending)
    received = stack.sandbox.state.stats()["addressees"]
    for row in restored.deliveries(pending):
        assert received[row.addressee]["received"][row.id]["duplicates"] == 1
    renewed = receipts_of(restored, pending)
    assert renewed.keys() == lost.keys()
    assert not set(renewed.values()) & set(lost.values())

    assert "checkpoint of 6 receipts" in drill.checkpoint(env)
    code, out, err = cli(env, "receipts", "audit", "--checkpoint", drill.witness)
    assert (code, out) == (0, "intact: 6 receipts, 4 checkpoints\n"), err
    code, _, err = cli(env, "receipts", "audit", "--checkpoint", before)
    assert code == 1
    reported = err.splitlines()[-1]
    assert reported.startswith("broken at #6 (checkpoint): the log does not match the checkpoint")
    assert reported.endswith("a receipt from #4 to #6 was rewritten")


def test_the_documented_commands_are_the_tested_ones() -> None:
    """docs/deploy.md gives the operator the very commands this drill runs."""
    deploy = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text("utf-8")
    assert f"python3 -c '{backups.SQLITE_BACKUP}'" in deploy
    assert f"python3 -c '{backups.WITNESS_SPLIT}'" in deploy
    assert " ".join(backups.PG_DUMP) + ' --file="' in deploy
    assert " ".join(backups.PG_RESTORE) + ' --dbname="' in deploy
    assert 'install -m 600 "$BACKUP" "$CHECK/csins.db"' in deploy
