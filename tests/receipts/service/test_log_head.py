"""Two receipts recorded at once on a log with no head row (found by CI on PostgreSQL).

The migration creates the head; the tests empty every table after each test, so their logs
have none. Two workers acknowledged their deliveries in the same instant: both found no head
row to lock, both created one, and the second failed on the duplicate, so its delivery waited
for the sweeper (the outage test gave up). The head is now created race-free.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import delete, select

from adapter.receipts import DeliveryFacts
from adapter.receipts.audit import HEAD_ID
from adapter.receipts.log import append_receipt, signer_for
from adapter.store.models import DeliveryRow
from adapter.store.receipt_models import ReceiptLogHeadRow, ReceiptRow
from tests.receipts.conftest import make_facts
from tests.receipts.service.conftest import make_record
from tests.support.locks import waits_for_a_lock
from tests.support.service import Service


def _facts(delivery: DeliveryRow) -> DeliveryFacts:
    """The receipt's facts of ``delivery`` (the rest as :func:`make_facts` gives them)."""
    return make_facts(
        delivery_id=delivery.id,
        document=delivery.document,
        addressee=delivery.addressee,
        local_authority_code=delivery.la_code,
    )


def _append(service: Service, delivery_id: str) -> ReceiptRow:
    database = service.database
    with database.session_scope() as session:
        delivery = session.get_one(DeliveryRow, delivery_id)
        return append_receipt(
            session,
            signer_for(service.settings),
            _facts(delivery),
            incident_id=delivery.incident_id,
        )


def test_the_first_two_receipts_recorded_at_once_are_both_kept(service: Service) -> None:
    if service.database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: this race cannot happen there")
    key = service.key("local_authority", "812")
    response = service.post("/api/v1/incidents", key, make_record(looked_after=True))
    assert response.status_code == 201, response.get_json()
    first_id, second_id = [d["id"] for d in response.get_json()["deliveries"]][:2]
    with service.database.session_scope() as session:  # as emptying the tables leaves it
        session.execute(delete(ReceiptLogHeadRow))

    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            outcome["row"] = _append(service, second_id)
        except Exception as error:
            outcome["error"] = error

    database = service.database
    with database.session_scope() as session:  # the first receipt, not yet committed
        delivery = session.get_one(DeliveryRow, first_id)
        append_receipt(
            session,
            signer_for(service.settings),
            _facts(delivery),
            incident_id=delivery.incident_id,
        )
        thread = threading.Thread(target=second)
        thread.start()
        assert waits_for_a_lock(database.engine)  # the second waits behind the first
    thread.join(30)

    assert "error" not in outcome, repr(outcome.get("error"))
    with database.session_scope() as session:
        rows = session.scalars(select(ReceiptRow).order_by(ReceiptRow.sequence)).all()
        assert [(r.sequence, r.delivery_id) for r in rows] == [(1, first_id), (2, second_id)]
        head = session.get_one(ReceiptLogHeadRow, HEAD_ID)
        assert (head.size, head.head_sha256) == (2, rows[1].chain_hash)
