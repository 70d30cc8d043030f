"""DESIGN.md §4: facts that emerge later are amendments, "sent to every addressee that already
received the notification". Through a real worker: an addressee whose notification is still on
its way when the record is amended gets the notification first, then one amendment carrying the
latest version; never an amendment before the notification it amends."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from adapter.store import outbox
from adapter.store.models import DeliveryRow
from tests.e2e.conftest import Stack, make_record


def _amend(stack: Stack, incident_id: str, record: dict, summary: str) -> None:
    record["incident"]["summary"] = summary
    response = stack.client.post(
        f"/api/v1/incidents/{incident_id}/amendments",
        json=record,
        headers={"Authorization": f"Bearer {stack.key()}"},
    )
    assert response.status_code == 201, response.get_json()


def _amendments(stack: Stack, incident_id: str) -> list[tuple[DeliveryRow, dict]]:
    """The incident's amendment deliveries with the payload each sends."""
    with stack.database.session_scope() as session:
        rows = session.scalars(
            select(DeliveryRow).where(
                DeliveryRow.incident_id == incident_id, DeliveryRow.document == "amendment"
            )
        ).all()
        return [
            (row, json.loads(outbox.delivery_payload(stack.database.keyring, row))) for row in rows
        ]


@pytest.mark.slow
def test_an_amendment_waits_for_the_notification_it_amends(stack: Stack) -> None:
    """§4: the Panel's notification fails while the record is amended twice; once it is
    retried and acknowledged, the Panel gets one amendment, version 3 amending version 1, and
    gets it after the notification."""
    stack.fault(addressee="panel", status=400)  # refused until cleared
    stack.start_worker()
    record = make_record()
    response = stack.client.post(
        "/api/v1/incidents", json=record, headers={"Authorization": f"Bearer {stack.key()}"}
    )
    assert response.status_code == 201, response.get_json()
    incident_id = response.get_json()["id"]
    (notification,) = stack.wait_status(stack.delivery_ids(incident_id), "failed")

    _amend(stack, incident_id, record, "A fact that emerged later.")
    _amend(stack, incident_id, record, "Another fact that emerged later.")
    assert _amendments(stack, incident_id) == []  # the Panel has received nothing to amend

    stack.sandbox.state.clear_faults()
    admin = stack.key(role="admin")
    retried = stack.client.post(
        f"/api/v1/deliveries/{notification.id}/retry",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert retried.status_code == 202, retried.get_json()
    stack.wait_acknowledged([notification.id])
    (amendment, payload), *others = stack.wait_for(
        lambda: _amendments(stack, incident_id), "the amendment that follows the notification"
    )
    assert others == []
    stack.wait_acknowledged([amendment.id])

    assert (amendment.addressee, amendment.version) == ("panel", 3)
    assert (payload["version"], payload["amends_version"]) == (3, 1)
    received = stack.sandbox.state.stats()["addressees"]["panel"]["received"]
    assert list(received) == [notification.id, amendment.id]  # in the order they arrived
    stack.assert_delivered_once([notification.id, amendment.id])


@pytest.mark.slow
def test_an_addressee_that_received_the_notification_is_sent_the_amendment_at_once(
    stack: Stack,
) -> None:
    """§4: the notification acknowledged, an amendment goes to the Panel straight away, and the
    acknowledgement of the notification queued nothing more (it carried the current version)."""
    stack.start_worker()
    record = make_record()
    (notification_id,) = stack.submit(record)
    (notification,) = stack.wait_acknowledged([notification_id])
    assert _amendments(stack, notification.incident_id) == []

    _amend(stack, notification.incident_id, record, "A fact that emerged later.")
    ((amendment, payload),) = _amendments(stack, notification.incident_id)
    stack.wait_acknowledged([amendment.id])
    assert (payload["version"], payload["amends_version"]) == (2, 1)
    stack.assert_delivered_once([notification_id, amendment.id])
