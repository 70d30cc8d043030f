"""``csins-adapter receipts audit``: the stored log re-walked, and the first break named (§6).

Tampering is done as someone with database access would: raw SQL on ``receipts``. Some of it
with the signing key too (a re-signed receipt, a rewritten tail), which only the chain, the head
or a checkpoint kept outside the service can show.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

from sqlalchemy import func, select

from adapter.receipts import SignedCheckpoint, SignedReceipt, sign_receipt
from adapter.receipts.log import audit_log, record_checkpoint
from adapter.receipts.receipt import payload_sha256
from adapter.service import delivering
from adapter.store.receipt_models import ReceiptLogHeadRow, ReceiptRow
from tests.delivery.helpers import acknowledgement
from tests.receipts.conftest import make_keyring
from tests.receipts.service.conftest import (
    audit,
    cli,
    make_record,
    service_env,
    signing_keyring,
    sql,
    three,
)
from tests.support.service import Service


def checkpoint_now(service: Service) -> SignedCheckpoint:
    """What the cron job does: sign the log's head and store the checkpoint."""
    with service.database.session_scope() as session:
        row = record_checkpoint(session, signing_keyring(service))
        assert row is not None
        return SignedCheckpoint.from_jws(row.jws)


def resigned(service: Service, row: ReceiptRow, **changes: object) -> SignedReceipt:
    """The receipt of ``row`` with ``changes``, re-signed with the service's own key."""
    content = {**SignedReceipt.from_jws(row.jws).content, **changes}
    return sign_receipt(content, signing_keyring(service))


def replace(service: Service, sequence: int, receipt: SignedReceipt, *, chain_hash: bool) -> None:
    """UPDATE the stored JWS of receipt ``sequence`` (and its chain hash, if a careful forger)."""
    sql(
        service,
        "UPDATE receipts SET jws = :jws WHERE sequence = :sequence",
        jws=receipt.jws,
        sequence=sequence,
    )
    if chain_hash:
        sql(
            service,
            "UPDATE receipts SET chain_hash = :hash WHERE sequence = :sequence",
            hash=receipt.chain_hash,
            sequence=sequence,
        )


def test_an_intact_log(service):
    three(service)
    checkpoint_now(service)
    assert audit(service) == (0, "intact: 3 receipts, 1 checkpoints\n", "")


def test_an_empty_log_is_intact(service):
    assert audit(service) == (0, "intact: 0 receipts, 0 checkpoints\n", "")


def test_a_deleted_receipt_is_reported_at_its_sequence(service):
    three(service)
    sql(service, "DELETE FROM receipts WHERE sequence = 2")
    assert audit(service) == (
        1,
        "",
        "broken at #2 (missing): receipt #2 is missing: the next one is #3\n",
    )


def test_a_deleted_last_receipt_is_reported_against_the_head(service):
    three(service)
    sql(service, "DELETE FROM receipts WHERE sequence = 3")
    assert audit(service) == (
        1,
        "",
        "broken at #3 (missing): the log head records 3 receipts but the log ends at #2: "
        "#3 is missing\n",
    )


def test_a_jws_replaced_by_one_from_another_key_is_reported_at_its_sequence(service):
    rows = three(service)
    forged = sign_receipt(SignedReceipt.from_jws(rows[1].jws).content, make_keyring())
    replace(service, 2, forged, chain_hash=True)
    code, out, err = audit(service)
    assert (code, out) == (1, "")
    assert err.startswith("broken at #2 (unknown_key): unknown key")


def test_a_jws_re_signed_with_the_real_key_is_reported_at_its_sequence(service):
    rows = three(service)
    replace(service, 2, resigned(service, rows[1], addressee_reference="FORGED"), chain_hash=False)
    assert audit(service) == (
        1,
        "",
        "broken at #2 (altered): receipt #2 was changed after it was appended: its JWS no "
        "longer has the chain hash stored with it\n",
    )


def test_a_re_signed_receipt_with_its_hash_updated_breaks_the_next_link(service):
    rows = three(service)
    replace(service, 2, resigned(service, rows[1], addressee_reference="FORGED"), chain_hash=True)
    assert audit(service) == (
        1,
        "",
        "broken at #3 (link): previous_receipt_sha256 of receipt #3 does not match receipt #2: "
        "one of them was altered or replaced\n",
    )


def test_a_replaced_last_receipt_no_longer_matches_the_head(service):
    rows = three(service)
    replace(service, 3, resigned(service, rows[2], addressee_reference="FORGED"), chain_hash=True)
    assert audit(service) == (
        1,
        "",
        "broken at #3 (head): receipt #3 is not the one the log head recorded: it was replaced\n",
    )


def test_a_head_rolled_back_over_receipts_is_reported(service):
    three(service)
    checkpoint_now(service)
    sql(service, "UPDATE receipt_log_head SET size = 1")
    assert audit(service) == (
        1,
        "",
        "broken at #2 (head): the log head records 1 receipts but the log also holds #2 to #3: "
        "the head was altered\n",
    )
    sql(service, "DELETE FROM receipt_log_head")
    code, _, err = audit(service)
    assert code == 1
    assert err.startswith("broken at #1 (head): the log head records 0 receipts")


def test_a_genuine_receipt_copied_over_another_is_a_duplicate(service):
    rows = three(service)
    replace(service, 2, SignedReceipt.from_jws(rows[0].jws), chain_hash=True)
    assert audit(service) == (
        1,
        "",
        "broken at #2 (duplicate): expected receipt #2, found #1 again\n",
    )


def test_garbage_in_the_jws_column_is_reported_not_raised(service):
    three(service)
    sql(service, "UPDATE receipts SET jws = 'not.a.jws' WHERE sequence = 1")
    code, out, err = audit(service)
    assert (code, out) == (1, "")
    assert err.startswith("broken at #1 (malformed): malformed")


def rewrite_tail(service: Service, rows: list[ReceiptRow]) -> None:
    """A consistent rewrite of receipt #3 by someone holding the key and the database."""
    forged = resigned(service, rows[2], addressee_reference="FORGED")
    replace(service, 3, forged, chain_hash=True)
    sql(service, "UPDATE receipt_log_head SET head_sha256 = :hash", hash=forged.chain_hash)
    sql(service, "DELETE FROM receipt_checkpoints")


def test_a_kept_checkpoint_shows_a_rewritten_tail(service, tmp_path):
    rows = three(service)
    kept = tmp_path / "checkpoint.json"
    kept.write_text(checkpoint_now(service).to_json())
    assert audit(service, "--checkpoint", kept)[:2] == (0, "intact: 3 receipts, 2 checkpoints\n")

    rewrite_tail(service, rows)

    assert audit(service)[:2] == (0, "intact: 3 receipts, 0 checkpoints\n")  # the chain alone
    issued = json.loads(kept.read_text())["checkpoint"]["issued_at"]
    assert audit(service, "--checkpoint", kept) == (
        1,
        "",
        f"broken at #3 (checkpoint): the log does not match the checkpoint of size 3 issued at "
        f"{issued}: a receipt from #1 to #3 was rewritten\n",
    )


def test_a_kept_checkpoint_shows_a_truncated_log(service, tmp_path):
    rows = three(service)
    kept = tmp_path / "checkpoint.json"
    kept.write_text(checkpoint_now(service).to_json())
    sql(service, "DELETE FROM receipts WHERE sequence = 3")
    sql(
        service,
        "UPDATE receipt_log_head SET size = 2, head_sha256 = :hash",
        hash=rows[1].chain_hash,
    )
    sql(service, "DELETE FROM receipt_checkpoints")
    code, _, err = audit(service)  # the chain and head alone: the delivery still shows it
    assert code == 1
    assert err.startswith("broken at #3 (missing): 1 acknowledged delivery has no receipt")
    code, _, err = audit(service, "--checkpoint", kept)
    assert code == 1
    assert err.startswith("broken at #3 (missing): the log ends at #2 but a checkpoint issued at")


def test_an_untrustworthy_checkpoint_file_stops_the_audit(service, tmp_path):
    three(service)
    document = json.loads(checkpoint_now(service).to_json())
    document["checkpoint"]["size"] = 2
    kept = tmp_path / "checkpoint.json"
    kept.write_text(json.dumps(document))
    code, out, err = audit(service, "--checkpoint", kept)
    assert (code, out) == (2, "")
    assert f"checkpoint {kept} cannot be trusted: altered field 'size'" in err


def test_a_database_that_is_not_migrated_stops_the_audit(service, tmp_path):
    env = {**service_env(service), "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    code, out, err = cli("audit", env=env)
    assert (code, out) == (2, "")
    assert "run 'csins-adapter db upgrade'" in err


def test_audit_against_a_published_jwks(service, tmp_path):
    three(service)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(service.client.get("/.well-known/jwks.json").data)
    assert audit(service, "--jwks", jwks)[:2] == (0, "intact: 3 receipts, 0 checkpoints\n")
    other = tmp_path / "other.json"
    other.write_text(json.dumps(make_keyring().jwks()))
    code, _, err = audit(service, "--jwks", other)
    assert code == 1 and err.startswith("broken at #1 (unknown_key)")


def test_two_workers_acknowledging_one_delivery_yield_one_receipt(service):
    """The row lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) lets one acknowledgement through."""
    key = service.key("local_authority")
    incident = service.post("/api/v1/incidents", key, make_record()).get_json()
    (delivery,) = incident["deliveries"]
    database, settings = service.database, service.settings
    with database.session_scope() as session:
        started = delivering.start(session, database.keyring, settings.policy, delivery["id"])
    assert started is not None
    now = dt.datetime.now(dt.UTC)
    outcome = acknowledgement(now, sent_sha256=payload_sha256(b"envelope"), sent_bytes=8)
    signer = signing_keyring(service)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            with database.session_scope() as session:
                recorded = delivering.record(
                    session, database.keyring, settings, signer, started, outcome, now
                )
            results.append(recorded.status)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert results == ["acknowledged", "acknowledged"]
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(ReceiptRow)) == 1
        assert session.scalar(select(ReceiptRow.delivery_id)) == delivery["id"]
        head = session.get_one(ReceiptLogHeadRow, 1)
        assert head.size == 1
        assert audit_log(session, signer).first_break is None
