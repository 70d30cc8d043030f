"""Receipts through the whole service: the API, the zip, the audit CLI, on every backend.

The parent folder's ``keyring`` fixture is a receipt *signing* keyring; the database fixtures
of :mod:`tests.support.databases` need the *encryption* keyring of that name, restored here.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from adapter.receipts import SignedReceipt, SigningKeyring
from adapter.receipts.log import signer_for
from adapter.store.access_models import ApiKeyRow, AuditEntryRow
from adapter.store.crypto import Keyring
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from tests.support.service import Service, sample_record


@pytest.fixture(scope="module")
def keyring(test_key: bytes) -> Keyring:
    """The database's encryption keyring (shadows the signing keyring of the parent folder)."""
    return Keyring([("test-1", test_key)])


def make_record(reference: str = "NEL-2026-014", la: str = "812", **child: Any) -> dict[str, Any]:
    """The sample incident (one Panel notification); ``looked_after=True`` adds SoS and Ofsted."""
    record = sample_record()
    record["incident"]["reference"] = reference
    record["local_authority"]["code"] = la
    record["children"][0].update(child)
    return record


def acknowledged(service: Service, record: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit ``record`` with an LA key, run the worker until its deliveries are acknowledged."""
    record = record or make_record()
    key = service.key("local_authority", record["local_authority"]["code"])
    response = service.post("/api/v1/incidents", key, record)
    assert response.status_code == 201, response.get_json()
    service.work()
    incident: dict[str, Any] = response.get_json()
    deliver_what_redis_lost(service, [delivery["id"] for delivery in incident["deliveries"]])
    return incident


def deliver_what_redis_lost(service: Service, delivery_ids: list[str]) -> None:
    """Run the worker's job for any delivery still queued after ``service.work()``.

    The tests' Redis database is shared by every test run on the machine, and each one flushes
    it: a concurrent run can drop a job between enqueueing and working. The job is the same.
    """
    from jobs.deliver import deliver

    with service.database.session_scope() as session:
        queued = [
            delivery_id
            for delivery_id in delivery_ids
            if session.get_one(DeliveryRow, delivery_id).status != "acknowledged"
        ]
    for delivery_id in queued:
        assert deliver(delivery_id) == "acknowledged"


def receipt_rows(service: Service) -> list[ReceiptRow]:
    with service.database.session_scope() as session:
        return list(session.scalars(select(ReceiptRow).order_by(ReceiptRow.sequence)))


def audit_entries(service: Service, action: str) -> list[AuditEntryRow]:
    with service.database.session_scope() as session:
        return list(session.scalars(select(AuditEntryRow).where(AuditEntryRow.action == action)))


def key_id(service: Service, role: str) -> int:
    """The id of the newest API key of ``role``."""
    with service.database.session_scope() as session:
        found = session.scalars(
            select(ApiKeyRow.id).where(ApiKeyRow.role == role).order_by(ApiKeyRow.id.desc())
        ).first()
    assert found is not None
    return found


def sql(service: Service, statement: str, **values: Any) -> None:
    """Raw SQL straight to the database, as someone with database access would tamper."""
    with service.database.engine.begin() as connection:
        connection.execute(text(statement), values)


def signing_keyring(service: Service) -> SigningKeyring:
    """The keyring the service signs with (the same key files, as the worker and web read)."""
    return signer_for(service.settings)


def save_jwks(service: Service, path: Path) -> Path:
    """``GET /.well-known/jwks.json`` saved to ``path``, as a verifier would keep it."""
    response = service.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    path.write_bytes(response.data)
    return path


def download(service: Service, key: str, receipt_id: str, path: Path) -> Path:
    """``GET /api/v1/receipts/{id}`` saved to ``path`` as it came."""
    response = service.get(f"/api/v1/receipts/{receipt_id}", key)
    assert response.status_code == 200, response.get_json()
    path.write_bytes(response.data)
    return path


def cli(*args: object, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``csins-adapter receipts ARGS``: exit code, standard output, standard error."""
    from adapter.cli.receipts import receipts

    result = CliRunner().invoke(receipts, [str(arg) for arg in args], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def service_env(service: Service) -> dict[str, str]:
    """The environment a command on the service's machine would have (same database and keys)."""
    settings = service.settings
    env = {
        "CSINS_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": service.database.engine.url.render_as_string(hide_password=False),
        "CSINS_SIGNING_KEY_FILE": str(settings.signing_key_file or ""),
        "CSINS_SIGNING_KEYS_DIR": str(settings.signing_keys_dir or ""),
    }
    return env


def use_keys_dir(service: Service, keys_dir: Path) -> None:
    """Configure ``CSINS_SIGNING_KEYS_DIR`` for the web app and the worker (before either signs)."""
    settings = dataclasses.replace(service.settings, signing_keys_dir=keys_dir)
    service.settings = settings
    service.app.extensions["csins"].settings = settings
    restart(service)


def restart(service: Service) -> None:
    """What restarting the web processes and workers does to the keys: they are read again."""
    service.app.extensions["csins"]._signer = None
    service._context = None


def read_file(path: Path) -> SignedReceipt:
    document = json.loads(path.read_text(encoding="utf-8"))
    return SignedReceipt(document["receipt"], document["jws"])


def three(service: Service) -> list[ReceiptRow]:
    """Three receipts (three incidents), sequences 1, 2, 3."""
    for number in (14, 15, 16):
        acknowledged(service, make_record(f"NEL-2026-{number:03d}"))
    rows = receipt_rows(service)
    assert [row.sequence for row in rows] == [1, 2, 3]
    return rows


def audit(service: Service, *args: object) -> tuple[int, str, str]:
    """``csins-adapter receipts audit`` against the service's database and keys."""
    return cli("audit", *args, env=service_env(service))
