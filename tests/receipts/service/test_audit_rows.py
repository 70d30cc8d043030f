"""``receipts audit`` beyond the chain: each row against its receipt, each delivery against the log.

The columns stored beside a receipt (what the lists, filters and LA scoping read) can be edited
without touching the JWS; a tail can be cut off and the head rolled back to match without the
signing key. Neither leaves a mark on the chain: the audit finds both all the same (§6).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from adapter.receipts.audit import stored_difference
from adapter.receipts.signed import SignedReceipt
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptRow
from tests.receipts.service.conftest import (
    audit,
    make_record,
    sql,
    three,
)
from tests.support.service import Service


def queued_delivery(service: Service) -> str:
    """A delivery the worker has not sent yet (it has no receipt, rightly)."""
    key = service.key("local_authority")
    response = service.post("/api/v1/incidents", key, make_record("NEL-2026-099"))
    assert response.status_code == 201, response.get_json()
    (delivery,) = response.get_json()["deliveries"]
    return str(delivery["id"])


def edit(service: Service, sequence: int, **values: Any) -> None:
    """UPDATE one receipt row's columns in place (through the column types: a time stays UTC)."""
    with service.database.session_scope() as session:
        session.execute(update(ReceiptRow).where(ReceiptRow.sequence == sequence).values(**values))


EDITS: dict[str, tuple[str, Callable[[Service, list[ReceiptRow]], Any]]] = {
    "on_time": ("on_time", lambda service, rows: not rows[1].on_time),
    "la_code": ("local_authority_code", lambda service, rows: "999"),
    "addressee": ("addressee", lambda service, rows: "ofsted"),
    "document": ("document", lambda service, rows: "rapid_review"),
    "acknowledged_at": (
        "acknowledged_at",
        lambda service, rows: rows[1].acknowledged_at - dt.timedelta(days=3),
    ),
    "id": ("receipt_id", lambda service, rows: str(uuid.uuid4())),
    "delivery_id": ("delivery_id", lambda service, rows: queued_delivery(service)),
}


@pytest.mark.parametrize("column", list(EDITS))
def test_a_column_edited_beside_an_intact_jws_is_altered(service, column):
    rows = three(service)
    field, value = EDITS[column]
    edit(service, 2, **{column: value(service, rows)})
    assert audit(service) == (
        1,
        "",
        f"broken at #2 (altered): receipt #2 was changed after it was appended: its stored "
        f"{column} does not match the signed {field}\n",
    )


def test_a_receipt_moved_to_another_incident_is_altered(service):
    rows = three(service)
    sql(service, "UPDATE receipts SET incident_id = :i WHERE sequence = 2", i=rows[0].incident_id)
    assert audit(service) == (
        1,
        "",
        "broken at #2 (altered): receipt #2 was changed after it was appended: its stored "
        "incident_id is not the incident of the signed delivery_id\n",
    )


def test_an_edited_row_is_reported_before_a_truncated_tail(service):
    rows = three(service)
    edit(service, 1, on_time=not rows[0].on_time)
    cut_tail(service, rows, keep=2)
    code, _, err = audit(service)
    assert code == 1 and err.startswith("broken at #1 (altered): ")


def test_stored_rows_match_their_receipts_and_an_edit_is_named(service):
    rows = three(service)
    for row in rows:
        assert stored_difference(row, SignedReceipt.from_jws(row.jws).content) is None
    content = {**SignedReceipt.from_jws(rows[0].jws).content, "addressee": "dfe"}
    assert stored_difference(rows[0], content) == ("addressee", "addressee")
    content = SignedReceipt.from_jws(rows[0].jws).content
    del content["on_time"]
    assert stored_difference(rows[0], content) == ("on_time", "on_time")


def cut_tail(service: Service, rows: list[ReceiptRow], *, keep: int) -> None:
    """Delete every receipt after #``keep`` and roll the head back to it: no key needed."""
    sql(service, "DELETE FROM receipts WHERE sequence > :keep", keep=keep)
    sql(
        service,
        "UPDATE receipt_log_head SET size = :size, head_sha256 = :hash",
        size=keep,
        hash=rows[keep - 1].chain_hash,
    )


def test_a_tail_cut_off_with_the_head_rolled_back_is_missing(service):
    rows = three(service)
    cut_tail(service, rows, keep=2)
    assert audit(service) == (
        1,
        "",
        f"broken at #3 (missing): 1 acknowledged delivery has no receipt, the first delivery "
        f"{rows[2].delivery_id}: the log ends at #2, so receipts after it were removed (or a "
        "delivery's status was altered)\n",
    )


def test_every_acknowledged_delivery_without_a_receipt_is_counted(service):
    rows = three(service)
    cut_tail(service, rows, keep=1)
    code, out, err = audit(service)
    assert (code, out) == (1, "")
    assert err.startswith(
        f"broken at #2 (missing): 2 acknowledged deliveries have no receipt, the first delivery "
        f"{rows[1].delivery_id}: the log ends at #1"
    )


def test_the_whole_log_cut_off_is_missing_from_1(service):
    rows = three(service)
    sql(service, "DELETE FROM receipts")
    sql(service, "UPDATE receipt_log_head SET size = 0, head_sha256 = :hash", hash="0" * 64)
    code, _, err = audit(service)
    assert code == 1
    assert err.startswith(
        f"broken at #1 (missing): 3 acknowledged deliveries have no receipt, the first delivery "
        f"{rows[0].delivery_id}: the log ends at #0"
    )


def test_deliveries_not_yet_acknowledged_need_no_receipt(service):
    three(service)
    queued_delivery(service)
    with service.database.session_scope() as session:
        statuses = set(session.scalars(select(DeliveryRow.status)))
    assert "acknowledged" in statuses and statuses - {"acknowledged"}
    assert audit(service) == (0, "intact: 3 receipts, 0 checkpoints\n", "")
