"""Checkpoints kept outside the database (issue 19 item 3): the cron job and ``receipts
checkpoint`` append each one to a witness file, the API and the compliance pages hand it out,
and ``receipts audit --checkpoint FILE`` shows the truncation the database alone cannot."""

from __future__ import annotations

import json
import os
import stat

from jobs.context import build_context, use_context
from jobs.maintenance import checkpoint as checkpoint_job
from tests.receipts.service.conftest import (
    acknowledged,
    audit,
    cli,
    make_record,
    receipt_rows,
    service_env,
    sql,
    three,
)
from tests.support.service import Service


def witness(service: Service):
    return service.settings.data_dir / "receipt-checkpoints.jsonl"


def run_checkpoint_job(service: Service) -> int | None:
    """What the scheduler's cron runs every few minutes, in a worker."""
    if service._context is None:  # the worker's context, as Service.work() builds it
        service._context = build_context(service.settings, service.database)
    use_context(service._context)
    return checkpoint_job()


def truncate_to(service: Service, size: int) -> None:
    """The probe's attack, by someone who can write to the database: delete the last receipts,
    roll the head back to the last receipt kept, un-acknowledge the deliveries whose receipts
    went, and delete the stored checkpoints that covered them."""
    rows = receipt_rows(service)
    gone = [row.delivery_id for row in rows[size:]]
    sql(service, "DELETE FROM receipts WHERE sequence > :size", size=size)
    sql(
        service,
        "UPDATE receipt_log_head SET size = :size, head_sha256 = :hash",
        size=size,
        hash=rows[size - 1].chain_hash,
    )
    for delivery_id in gone:
        sql(
            service,
            "UPDATE deliveries SET status = 'queued', acknowledged_at = NULL WHERE id = :id",
            id=delivery_id,
        )
    sql(service, "DELETE FROM receipt_checkpoints")


def test_the_truncation_the_probe_made_is_caught_by_the_witness_file(service):
    three(service)
    assert run_checkpoint_job(service) == 3
    path = witness(service)
    assert audit(service, "--checkpoint", path)[:2] == (0, "intact: 3 receipts, 2 checkpoints\n")

    truncate_to(service, 1)

    assert audit(service)[:2] == (0, "intact: 1 receipts, 0 checkpoints\n")  # what the probe saw
    code, out, err = audit(service, "--checkpoint", path)
    assert (code, out) == (1, "")
    assert err.startswith("broken at #2 (missing): the log ends at #1 but a checkpoint issued at")
    assert "covers 3 receipts" in err


def test_every_checkpoint_is_one_more_line_and_all_are_compared(service, tmp_path):
    acknowledged(service, make_record("NEL-2026-001"))
    code, out, _ = cli("checkpoint", env=service_env(service))
    assert code == 0 and out.startswith("checkpoint of 1 receipts, head ")
    acknowledged(service, make_record("NEL-2026-002"))
    assert run_checkpoint_job(service) == 2
    lines = witness(service).read_text().splitlines()
    assert [json.loads(line)["checkpoint"]["size"] for line in lines] == [1, 2]
    assert stat.S_IMODE(os.stat(witness(service)).st_mode) == 0o600

    truncate_to(service, 1)
    code, _, err = audit(service, "--checkpoint", witness(service))
    assert code == 1 and "covers 2 receipts: #2 is missing" in err


def test_an_empty_log_writes_no_checkpoint(service):
    assert run_checkpoint_job(service) is None
    code, out, _ = cli("checkpoint", env=service_env(service))
    assert (code, out) == (0, "the receipt log is empty: nothing to checkpoint\n")
    assert not witness(service).exists()


def test_the_witness_file_can_be_configured(service, tmp_path):
    acknowledged(service, make_record("NEL-2026-101"))
    elsewhere = tmp_path / "kept" / "witness.jsonl"
    env = {**service_env(service), "CSINS_CHECKPOINT_FILE": str(elsewhere)}
    assert cli("checkpoint", env=env)[0] == 0
    assert len(elsewhere.read_text().splitlines()) == 1
    assert not witness(service).exists()


def test_an_altered_line_stops_the_audit_naming_it(service):
    acknowledged(service, make_record("NEL-2026-102"))
    run_checkpoint_job(service)
    run_checkpoint_job(service)
    path = witness(service)
    first, second = path.read_text().splitlines()
    document = json.loads(second)
    document["checkpoint"]["size"] = 7
    path.write_text(first + "\n" + json.dumps(document) + "\n")
    code, out, err = audit(service, "--checkpoint", path)
    assert (code, out) == (2, "")
    assert f"checkpoint 2 of {path} cannot be trusted: altered field 'size'" in err


def test_the_checkpoints_download_from_the_api_to_compliance_and_admin_keys(service, tmp_path):
    acknowledged(service, make_record("NEL-2026-103"))
    run_checkpoint_job(service)
    for role in ("compliance", "admin"):
        response = service.get("/api/v1/receipts/checkpoints", service.key(role, "812"))
        assert response.status_code == 200
        assert response.mimetype == "application/jsonl"
        assert response.data == witness(service).read_bytes()
    kept = tmp_path / "downloaded.jsonl"
    kept.write_bytes(response.data)
    assert audit(service, "--checkpoint", kept)[0] == 0
    refused = service.get("/api/v1/receipts/checkpoints", service.key("local_authority", "812"))
    assert refused.status_code == 403


def test_before_any_checkpoint_the_download_is_empty(service):
    response = service.get("/api/v1/receipts/checkpoints", service.key("compliance", "812"))
    assert (response.status_code, response.data) == (200, b"")
