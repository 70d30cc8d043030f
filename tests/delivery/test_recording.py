"""Recording how a try ended, against the real service database (DESIGN.md §6)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from typing import Any

from sqlalchemy import select, update

from adapter.delivery import Outcome
from adapter.delivery.outcome import OutcomeKind
from adapter.receipts.log import signer_for
from adapter.service import delivering
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryAttemptRow, DeliveryRow, IncidentRow
from adapter.store.receipt_models import ReceiptRow
from tests.delivery.helpers import (
    ScriptedAddressee,
    acknowledgement,
    make_delivery,
    sandbox_channel,
)
from tests.support.service import Service, sample_record


def _submitted_and_started(service: Service) -> tuple[dict[str, Any], delivering.Started | None]:
    """The sample submitted (one delivery, to the Panel) and a try of that delivery started."""
    response = service.post("/api/v1/incidents", service.key(), sample_record())
    assert response.status_code == 201, response.get_json()
    (queued,) = response.get_json()["deliveries"]
    database = service.database
    with database.session_scope() as session:
        started = delivering.start(session, database.keyring, service.settings.policy, queued["id"])
    return queued, started


def test_an_acknowledgement_that_changes_the_plan_waits_for_the_incidents_lock(service: Service):
    """While an API event or amendment holds the incident, the worker's recording of an
    acknowledgement that meets one of its obligations waits, then goes through."""
    _, started = _submitted_and_started(service)
    database, settings = service.database, service.settings
    assert started is not None and started.changes_plan
    now = dt.datetime.now(dt.UTC)
    recorded: list[str] = []

    def worker() -> None:
        with database.session_scope() as session:
            outcome = acknowledgement(now)
            done = delivering.record(
                session, database.keyring, settings, signer_for(settings), started, outcome, now
            )
        recorded.append(done.status)

    with database.session_scope() as api:
        # As an event's re-plan does: it changes the incident row, which locks it (not its key).
        api.execute(
            update(IncidentRow).where(IncidentRow.id == started.incident_id).values(updated_at=now)
        )
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive() and recorded == []
    thread.join(timeout=30)
    assert recorded == ["acknowledged"]
    with database.session_scope() as session:
        delivery = session.get_one(DeliveryRow, started.delivery_id)
        assert delivery.status == "acknowledged"
        assert delivery.obligation is not None
        assert delivery.obligation.acknowledged_at == now


def test_an_amendment_acknowledged_late_on_a_summer_evening_is_on_time(service: Service):
    """§5 "a deadline falls due at the end of its day, Europe/London": an amendment, due the day
    it is acknowledged, acknowledged at 23:30 UTC in summer (00:30 the next day in London) is
    due that London day, so its receipt says on time."""
    submitted = service.post("/api/v1/incidents", service.key(), sample_record())
    assert submitted.status_code == 201, submitted.get_json()
    incident_id = submitted.get_json()["id"]
    service.work()  # the notification arrives: an amendment goes to whoever received it (§2)
    amended = sample_record()
    amended["incident"]["summary"] = "Facts that emerged later."
    response = service.post(f"/api/v1/incidents/{incident_id}/amendments", service.key(), amended)
    assert response.status_code == 201, response.get_json()
    database, settings = service.database, service.settings
    with database.session_scope() as session:
        (amendment_id,) = session.scalars(
            select(DeliveryRow.id).where(
                DeliveryRow.incident_id == incident_id, DeliveryRow.document == "amendment"
            )
        )
        started = delivering.start(session, database.keyring, settings.policy, amendment_id)
    assert started is not None
    evening = dt.datetime(2026, 7, 10, 23, 30, tzinfo=dt.UTC)
    with database.session_scope() as session:  # the try began a moment before, that evening
        began = evening - dt.timedelta(seconds=1)
        session.execute(
            update(DeliveryRow).where(DeliveryRow.id == amendment_id).values(first_attempt_at=began)
        )
        session.execute(
            update(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == amendment_id)
            .values(started_at=began)
        )
    assert _record(service, started, acknowledgement(evening), evening).status == "acknowledged"
    with database.session_scope() as session:
        receipt = session.scalars(
            select(ReceiptRow).where(ReceiptRow.delivery_id == amendment_id)
        ).one()
        assert receipt.on_time


def test_an_acknowledgement_with_a_reference_too_long_for_a_receipt_is_recorded_once(
    service: Service, addressee: ScriptedAddressee
):
    """A 201-character reference from a real addressee: the https channel drops it (a receipt
    holds 1-200), so the receipt is signed and the delivery not sent again."""
    queued, started = _submitted_and_started(service)
    database, settings = service.database, service.settings
    assert started is not None
    addressee.answer = (200, "application/json", json.dumps({"reference": "R" * 201}).encode())
    outcome = sandbox_channel(addressee.url, addressee=queued["addressee"], https=True).send(
        make_delivery(addressee=queued["addressee"])
    )
    now = dt.datetime.now(dt.UTC)
    with database.session_scope() as session:
        done = delivering.record(
            session, database.keyring, settings, signer_for(settings), started, outcome, now
        )
    assert done.status == "acknowledged"
    with database.session_scope() as session:
        assert session.scalars(
            select(ReceiptRow).where(ReceiptRow.delivery_id == queued["id"])
        ).one()
        delivery = session.get_one(DeliveryRow, queued["id"])
        assert (delivery.status, delivery.addressee_reference) == ("acknowledged", None)


def _record(
    service: Service, started: delivering.Started, outcome: Outcome, at: dt.datetime
) -> delivering.Recorded:
    """Record ``outcome`` of ``started`` at ``at``, as the worker does, in its own transaction."""
    database, settings = service.database, service.settings
    with database.session_scope() as session:
        return delivering.record(
            session, database.keyring, settings, signer_for(settings), started, outcome, at
        )


def _transient(now: dt.datetime) -> Outcome:
    return dataclasses.replace(
        acknowledgement(now), kind=OutcomeKind.TRANSIENT, status=503, reference=None, detail="503"
    )


def test_a_delivery_failing_again_at_the_same_risk_is_alerted_once(service: Service):
    """§6: a delivery whose deadline is at risk is escalated; each try to an addressee that is
    down must not alert again (six webhooks on the schedule's first day). The first failure at
    risk alerts; another at the same risk does not; one after a try that was not at risk does."""
    response = service.post("/api/v1/incidents", service.key(), sample_record())
    assert response.status_code == 201, response.get_json()
    (queued,) = response.get_json()["deliveries"]
    database, settings = service.database, service.settings
    with database.session_scope() as session:
        due = session.get_one(DeliveryRow, queued["id"]).obligation.due  # type: ignore[union-attr]
    overdue = dt.datetime.combine(due + dt.timedelta(days=3), dt.time(12), tzinfo=dt.UTC)
    long_before = overdue - dt.timedelta(days=60)

    def fail_a_try(at: dt.datetime, previous_finished_at: dt.datetime | None = None) -> int:
        with database.session_scope() as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == queued["id"])
                .values(next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
            if previous_finished_at is not None:
                session.execute(
                    update(DeliveryAttemptRow)
                    .where(DeliveryAttemptRow.delivery_id == queued["id"])
                    .values(finished_at=previous_finished_at)
                )
        with database.session_scope() as session:
            started = delivering.start(session, database.keyring, settings.policy, queued["id"])
        assert started is not None
        assert _record(service, started, _transient(at), at).status == "retrying"
        with database.session_scope() as session:
            return len(
                session.scalars(
                    select(AuditEntryRow).where(AuditEntryRow.action == "alert.deadline_at_risk")
                ).all()
            )

    assert fail_a_try(overdue) == 1
    assert fail_a_try(overdue + dt.timedelta(hours=1), previous_finished_at=overdue) == 1
    assert fail_a_try(overdue + dt.timedelta(hours=2), previous_finished_at=long_before) == 2


def test_a_transient_failure_puts_the_next_try_on_rqs_scheduler(service: Service):
    """The retry is published by the recording's after-commit step, the one place deliveries
    go on RQ (issue 16), due when the retry schedule says: not enqueued by the job itself."""
    from rq.registry import ScheduledJobRegistry

    from adapter.queue import DELIVERIES, SERIALIZER, delivery_job_id

    queued, started = _submitted_and_started(service)
    assert started is not None
    now = dt.datetime.now(dt.UTC)
    recorded = _record(service, started, _transient(now), now)
    assert recorded.status == "retrying" and recorded.retry_at is not None
    scheduled = ScheduledJobRegistry(DELIVERIES, connection=service.redis, serializer=SERIALIZER)
    job_id = delivery_job_id(queued["id"], started.attempt)
    assert scheduled.get_job_ids() == [job_id]
    at = scheduled.get_scheduled_time(job_id)
    assert abs(at - recorded.retry_at) < dt.timedelta(seconds=1)
