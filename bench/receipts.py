"""Receipts benchmark: signing and verifying throughput, a full chain audit, log-size independence.

Run: ``.venv/bin/python bench/receipts.py [--log-size 100000]``. Baselines in the same run: raw
Ed25519 sign/verify of the same canonical bytes (the floor: what the cryptography costs), and
``json.dumps(sort_keys=True)`` beside RFC 8785 canonicalisation (what a canonical form costs).

The same log is then stored in a SQLite database and audited through the database path
(:func:`adapter.receipts.log.audit_log`, one transaction; :func:`audit_database`, one short
transaction per batch, what ``csins-adapter receipts audit`` runs): the in-memory audit is
its baseline, so the difference is what reading the rows costs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapter.receipts import (
    GENESIS_SHA256,
    DeliveryFacts,
    SignedReceipt,
    SigningKeyring,
    build_checkpoint,
    issue_receipt,
    payload_sha256,
    sign_receipt,
    verify_chain,
    verify_receipt,
)
from adapter.receipts.log import AuditResult, audit_database, audit_log
from adapter.store import migrate
from adapter.store.database import Database
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptCheckpointRow, ReceiptLogHeadRow, ReceiptRow
from config.settings import Settings

ISSUED_AT = dt.datetime(2026, 11, 23, 10, 20, tzinfo=dt.UTC)


def facts(n: int) -> DeliveryFacts:
    return DeliveryFacts(
        delivery_id=f"dlv-{n:08d}",
        document="incident_notification",
        addressee="panel",
        incident_reference=f"NEL-2026-{n:06d}",
        local_authority_code="812",
        document_sha256=payload_sha256(f"document {n}".encode()),
        payload_sha256=payload_sha256(str(n).encode()),
        channel="https",
        destination="https://panel.example.gov.uk/api/notifications",
        attempts=1 + n % 3,
        first_attempt_at=dt.datetime(2026, 11, 23, 10, 15, tzinfo=dt.UTC),
        acknowledged_at=dt.datetime(2026, 11, 23, 10, 16, tzinfo=dt.UTC),
        addressee_status="202",
        addressee_reference=f"PNL-{n}",
        due_on=dt.date(2026, 11, 30),
    )


def rate(label: str, action: Callable[[], object], count: int) -> float:
    """Run ``action`` ``count`` times; print and return operations per second (best of 3)."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(count):
            action()
        best = min(best, time.perf_counter() - start)
    per_second = count / best
    print(f"  {label:<52} {per_second:>10,.0f} /s  {best / count * 1e6:>7.1f} µs each")
    return per_second


def build_log(size: int, keyring: SigningKeyring) -> list[str]:
    """``size`` chained receipts, kept as their JWS (as the store keeps them)."""
    compacts: list[str] = []
    previous = GENESIS_SHA256
    for sequence in range(1, size + 1):
        signed = issue_receipt(
            facts(sequence),
            sequence=sequence,
            previous_receipt_sha256=previous,
            keyring=keyring,
            issued_at=ISSUED_AT,
        )
        compacts.append(signed.jws)
        previous = signed.chain_hash
    return compacts


def single_verification_us(signed: SignedReceipt, keyring: SigningKeyring, runs: int) -> float:
    """Median microseconds of verifying one receipt, over ``runs`` timings."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        verify_receipt(signed, keyring.public_keys)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1e6


def _delivery_row(content: dict[str, Any], incident_id: str) -> dict[str, Any]:
    """The acknowledged delivery a receipt is the receipt of, as its row."""
    return {
        "id": content["delivery_id"],
        "incident_id": incident_id,
        "la_code": content["local_authority_code"],
        "document": content["document"],
        "addressee": content["addressee"],
        "version": 1,
        "status": "acknowledged",
        "attempts": 1,
        "media_type": "application/json",
        "payload": b"",
        "payload_sha256": content["payload_sha256"],
        "created_at": ISSUED_AT,
        "updated_at": ISSUED_AT,
    }


def _receipt_row(receipt: SignedReceipt, compact: str, incident_id: str) -> dict[str, Any]:
    """A receipt as the service stores it: its JWS and chain hash beside the fields it indexes."""
    content = receipt.content
    return {
        "id": content["receipt_id"],
        "sequence": content["sequence"],
        "delivery_id": content["delivery_id"],
        "incident_id": incident_id,
        "la_code": content["local_authority_code"],
        "document": content["document"],
        "addressee": content["addressee"],
        "on_time": content["on_time"],
        "acknowledged_at": dt.datetime(2026, 11, 23, 10, 16, tzinfo=dt.UTC),
        "jws": compact,
        "chain_hash": receipt.chain_hash,
        "created_at": ISSUED_AT,
    }


def store_log(database: Database, compacts: list[str], keyring: SigningKeyring) -> None:
    """Insert the log as the service stores it: receipt rows, the head, one checkpoint, and the
    acknowledged deliveries they are the receipts of (the audit checks each row against its
    delivery, and that no acknowledged delivery lacks a receipt).

    Rows go in through a plain engine, without foreign keys: the incident and LA the deliveries
    name are not stored (the audit never reads them).
    """
    from sqlalchemy import create_engine, delete, insert

    incident_id = str(uuid.uuid4())
    rows, deliveries = [], []
    for compact in compacts:
        receipt = SignedReceipt.from_jws(compact)
        deliveries.append(_delivery_row(receipt.content, incident_id))
        rows.append(_receipt_row(receipt, compact, incident_id))
    head = rows[-1]
    checkpoint = build_checkpoint(len(rows), head["chain_hash"], keyring)
    loader = create_engine(database.engine.url)
    with loader.begin() as connection:
        connection.execute(insert(DeliveryRow), deliveries)
        connection.execute(insert(ReceiptRow), rows)
        connection.execute(delete(ReceiptLogHeadRow))
        connection.execute(
            insert(ReceiptLogHeadRow),
            [{"id": 1, "size": len(rows), "head_sha256": head["chain_hash"]}],
        )
        connection.execute(
            insert(ReceiptCheckpointRow),
            [
                {
                    "size": len(rows),
                    "head_sha256": head["chain_hash"],
                    "jws": checkpoint.jws,
                    "created_at": ISSUED_AT,
                }
            ],
        )
    loader.dispose()


def database_audit(compacts: list[str], keyring: SigningKeyring, in_memory: float) -> None:
    """Time the audit of the stored log through :mod:`adapter.receipts.log`."""
    size = len(compacts)
    print(f"\naudit of {size:,} receipts stored in SQLite (adapter.receipts.log)")
    with tempfile.TemporaryDirectory() as folder:
        database = Database.from_settings(
            Settings(data_dir=Path(folder)), url=f"sqlite:///{folder}/bench.db"
        )
        migrate.upgrade(database.engine)
        start = time.perf_counter()
        store_log(database, compacts, keyring)
        print(f"  stored in {time.perf_counter() - start:.1f} s")
        runs: list[tuple[str, Callable[[], AuditResult]]] = [
            ("audit_log (one transaction)", lambda: _in_one_session(database, keyring)),
            (
                "audit_database (a transaction per batch, the CLI)",
                lambda: audit_database(database, keyring.public_keys),
            ),
        ]
        for label, run in runs:
            start = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - start
            assert result.first_break is None and result.receipts == size, result
            print(
                f"  {label:<52} {seconds:>6.1f} s ({size / seconds:,.0f} receipts/s, "
                f"x{seconds / in_memory:.2f} the in-memory audit)"
            )
        database.dispose()


def _in_one_session(database: Database, keyring: SigningKeyring) -> AuditResult:
    with database.session_scope() as session:
        return audit_log(session, keyring)


def _sample_receipt(keyring: SigningKeyring) -> SignedReceipt:
    """The first receipt of a log: what the throughput runs sign, verify and canonicalise."""
    return issue_receipt(
        facts(1),
        sequence=1,
        previous_receipt_sha256=GENESIS_SHA256,
        keyring=keyring,
        issued_at=ISSUED_AT,
    )


def canonical_form(content: dict[str, Any], n: int) -> None:
    """RFC 8785 canonicalisation beside ``json.dumps(sort_keys=True)``."""
    print("canonical form")
    rate(
        "json.dumps(sort_keys=True) (baseline)",
        lambda: json.dumps(content, sort_keys=True, separators=(",", ":")).encode(),
        n,
    )
    rate("rfc8785.dumps", lambda: rfc8785.dumps(content), n)


def signing(
    keyring: SigningKeyring, raw_key: Ed25519PrivateKey, content: dict[str, Any], n: int
) -> None:
    """Signing and issuing a receipt beside a raw Ed25519 signature of its canonical bytes."""
    payload = rfc8785.dumps(content)
    print("signing")
    raw_sign = rate(
        "raw Ed25519 sign of the canonical bytes (baseline)", lambda: raw_key.sign(payload), n
    )
    sign = rate("sign_receipt (canonicalise + JWS)", lambda: sign_receipt(content, keyring), n)
    issue = rate("issue_receipt (build + validate + sign)", lambda: _sample_receipt(keyring), n)
    print(
        f"  JWS overhead over raw signing: sign_receipt x{raw_sign / sign:.1f}, "
        f"issue_receipt x{raw_sign / issue:.1f}"
    )


def verifying(
    keyring: SigningKeyring, raw_key: Ed25519PrivateKey, signed: SignedReceipt, n: int
) -> None:
    """Verifying a receipt beside a raw Ed25519 verification of its canonical bytes."""
    payload = rfc8785.dumps(signed.content)
    raw_signature = raw_key.sign(payload)
    print("verifying")
    raw_verify = rate(
        "raw Ed25519 verify (baseline)",
        lambda: raw_key.public_key().verify(raw_signature, payload),
        n,
    )
    verify = rate(
        "verify_receipt (signature + readable copy + schema)",
        lambda: verify_receipt(signed, keyring.public_keys),
        n,
    )
    print(f"  overhead over raw verification: x{raw_verify / verify:.1f}")


def chain_audit(size: int, keyring: SigningKeyring) -> tuple[list[str], float]:
    """Issue a chain of ``size`` receipts and audit it in memory: the log, and the audit's
    seconds (the baseline of the database audit)."""
    print(f"\nchain of {size:,} receipts")
    start = time.perf_counter()
    compacts = build_log(size, keyring)
    built = time.perf_counter() - start
    print(f"  issued in {built:.1f} s ({size / built:,.0f} receipts/s)")
    head = SignedReceipt.from_jws(compacts[-1])
    checkpoint = build_checkpoint(size, head.chain_hash, keyring)
    start = time.perf_counter()
    result = verify_chain(
        (SignedReceipt.from_jws(c) for c in compacts), [checkpoint], keyring.public_keys
    )
    audited = time.perf_counter() - start
    assert result is None, result
    print(
        f"  full audit (every signature, link and the checkpoint): {audited:.1f} s "
        f"({size / audited:,.0f} receipts/s)"
    )
    return compacts, audited


def size_independence(compacts: list[str], keyring: SigningKeyring) -> None:
    """One verification early in the log beside one at its head."""
    print("\none verification does not depend on the log's size")
    small = SignedReceipt.from_jws(compacts[min(999, len(compacts) - 1)])
    large = SignedReceipt.from_jws(compacts[-1])
    for receipt in (small, large):
        label = f"head of a {receipt.content['sequence']:,}-receipt log"
        print(f"  {label:<32} median {single_verification_us(receipt, keyring, 2000):.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-size", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=5_000, help="operations per throughput run")
    args = parser.parse_args()
    keyring = SigningKeyring(Ed25519PrivateKey.generate())
    raw_key = Ed25519PrivateKey.generate()
    signed = _sample_receipt(keyring)
    payload = rfc8785.dumps(signed.content)
    print(f"receipt: {len(payload)} canonical bytes, JWS {len(signed.jws)} characters\n")
    canonical_form(signed.content, args.count)
    signing(keyring, raw_key, signed.content, args.count)
    verifying(keyring, raw_key, signed, args.count)
    compacts, audited = chain_audit(args.log_size, keyring)
    database_audit(compacts, keyring, audited)
    size_independence(compacts, keyring)


if __name__ == "__main__":
    main()
