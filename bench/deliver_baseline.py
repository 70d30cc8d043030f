"""The job of ``bench/deliver.py``'s baseline: what a delivery cannot avoid.

Each job sends one envelope of the same payload through the same channel a real delivery uses
(the addressee's configured channel, its HTTP client and signing, built once per worker
process), to the same sandbox receiver, under a fresh ``webhook-id`` so the receiver does all
its work (verifies the signature, records it). No database: no outbox row, no attempt, no
receipt, no re-plan. The delivery throughput divided by this one is what the service's own
bookkeeping costs.
"""

from __future__ import annotations

import uuid

from adapter.delivery.envelope import Delivery
from jobs.context import context


def post(payload_json: bytes, addressee: str, incident_reference: str) -> str:
    """Send one envelope; the outcome's kind (``acknowledged`` when the receiver took it)."""
    message = Delivery.from_canonical(
        payload_json,
        delivery_id=str(uuid.uuid4()),
        document="amendment",
        addressee=addressee,
        incident_reference=incident_reference,
        local_authority="812",
        version=1,
    )
    outcome = context().channel(addressee).send(message)
    if outcome.kind != "acknowledged":
        raise RuntimeError(f"the receiver did not acknowledge: {outcome.kind}")
    return outcome.kind
