"""The deadline tracker and the transactional outbox (DESIGN.md §2, §5, §6)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from adapter.clock import utcnow
from adapter.store import InvalidCursor
from adapter.store.models import (
    DeliveryAttemptRow,
    DeliveryRow,
    IncidentRow,
)
from adapter.store.new_incidents import create_incident
from adapter.store.outbox import (
    STUCK_SENDING_AFTER,
    deliveries_due,
    delivery_payload,
    enqueue_delivery,
    finish_attempt,
    get_delivery,
    list_deliveries,
    retry_delivery,
    start_attempt,
)
from adapter.store.pagination import encode_cursor
from adapter.store.tracker import (
    ObligationSpec,
    list_deadlines,
    list_obligations,
    replace_obligations,
    update_obligation,
)
from tests.store.factories import make_obligation, make_record


def new_incident(session, keyring, la="812", reference="R-1"):
    return create_incident(
        session, keyring, la_scope=la, record=make_record(la=la, reference=reference)
    ).incident


def test_replace_obligations_updates_in_place_and_keeps_met_ones(db):
    with db.session_scope() as session:
        incident = new_incident(session, db.keyring)
        rows = replace_obligations(
            session,
            la_scope="812",
            incident_id=incident.id,
            obligations=[
                make_obligation("incident_notification", "panel", dt.date(2026, 11, 30)),
                make_obligation("rapid_review", "panel", dt.date(2026, 12, 14)),
                make_obligation(
                    "looked_after_child_death_notification",
                    "ofsted",
                    dt.date(2026, 11, 30),
                    kind="policy",
                ),
            ],
        )
        ids = {(r.document, r.addressee): r.id for r in rows}
        notification = ids[("incident_notification", "panel")]
        update_obligation(session, "812", notification, status="met", satisfied_at=utcnow())
        rows = replace_obligations(
            session,
            la_scope="812",
            incident_id=incident.id,
            obligations=[
                ObligationSpec(
                    "rapid_review",
                    "panel",
                    dt.date(2026, 12, 15),
                    "statutory",
                    "15 working days after 2026-11-23",
                    "became_aware_on",
                ),
            ],
        )
    assert [(r.document, r.status) for r in rows] == [
        ("incident_notification", "met"),
        ("rapid_review", "pending"),
    ]
    assert rows[1].id == ids[("rapid_review", "panel")] and rows[1].due == dt.date(2026, 12, 15)
    assert rows[1].trigger == "became_aware_on"


def test_list_deadlines_filters_and_pages_by_due_then_id(db):
    with db.session_scope() as session:
        for n in range(3):
            incident = new_incident(session, db.keyring, reference=f"R-{n}")
            replace_obligations(
                session,
                la_scope="812",
                incident_id=incident.id,
                obligations=[
                    make_obligation("incident_notification", "panel", dt.date(2026, 12, 1 + n)),
                    make_obligation(
                        "looked_after_child_death_notification", "ofsted", dt.date(2026, 12, 1)
                    ),
                ],
            )
        other = new_incident(session, db.keyring, la="813")
        replace_obligations(
            session,
            la_scope="813",
            incident_id=other.id,
            obligations=[make_obligation(due=dt.date(2026, 1, 1))],
        )
    with db.session_scope() as session:
        seen, cursor = [], None
        while True:
            page = list_deadlines(session, "812", cursor=cursor, limit=4)
            seen += page.items
            if page.next is None:
                break
            cursor = page.next
        assert len(seen) == 6 and all(row.la_code == "812" for row in seen)
        assert [(r.due, r.id) for r in seen] == sorted((r.due, r.id) for r in seen)
        panel = list_deadlines(
            session, "812", addressee="panel", due_on_or_before=dt.date(2026, 12, 2)
        )
        assert [r.due.day for r in panel.items] == [1, 2] and panel.next is None
        assert list_deadlines(session, "812", status=["overdue", "met"]).items == []
        assert len(list_deadlines(session, "*", status="pending").items) == 7
        with pytest.raises(InvalidCursor):
            list_deadlines(session, "812", cursor="garbage")
        with pytest.raises(InvalidCursor):  # a cursor of another list
            list_deadlines(
                session,
                "812",
                cursor=encode_cursor("deliveries", ["2026-01-01T00:00:00+00:00", "x"]),
            )
        with pytest.raises(InvalidCursor):  # the right list, a forged key
            list_deadlines(session, "812", cursor=encode_cursor("deadlines", ["soon", "x"]))


def test_outbox_rows_commit_and_roll_back_with_the_incident(db):
    with pytest.raises(RuntimeError), db.session_scope() as session:
        incident = new_incident(session, db.keyring)
        enqueue_delivery(
            session,
            db.keyring,
            incident=incident,
            document="incident_notification",
            addressee="panel",
            payload=b"{}",
        )
        raise RuntimeError("the request failed after the outbox row was written")
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 0
        assert session.scalar(select(func.count()).select_from(DeliveryRow)) == 0


def queue_a_panel_notification(db, payload):
    """A new incident's Panel notification, queued against its obligation; the delivery's id."""
    with db.session_scope() as session:
        incident = new_incident(session, db.keyring)
        (obligation,) = replace_obligations(
            session, la_scope="812", incident_id=incident.id, obligations=[make_obligation()]
        )
        delivery = enqueue_delivery(
            session,
            db.keyring,
            incident=incident,
            document="incident_notification",
            addressee="panel",
            payload=payload,
            obligation=obligation,
        )
        delivery_id = delivery.id
        assert delivery.status == "queued" and delivery.version == 1
    return delivery_id


def test_delivery_lifecycle_and_attempt_log(db):
    delivery_id = queue_a_panel_notification(db, b'{"exact": "bytes"}')
    with db.session_scope() as session:
        assert [d.id for d in deliveries_due(session)] == [delivery_id]
        delivery, attempt, _ = start_attempt(session, delivery_id)
        assert delivery.status == "sending" and attempt.number == 1
        assert delivery_payload(db.keyring, delivery) == b'{"exact": "bytes"}'
        later = utcnow() + dt.timedelta(minutes=5)
        finish_attempt(
            session,
            delivery,
            attempt,
            outcome="transient",
            status_code=503,
            detail="Service Unavailable",
            next_attempt_at=later,
        )
        assert delivery.status == "retrying" and delivery.last_error == "Service Unavailable"
        assert deliveries_due(session) == []
        assert [d.id for d in deliveries_due(session, now=later)] == [delivery_id]
    with db.session_scope() as session:
        assert start_attempt(session, delivery_id) is None  # an early job leaves the schedule
        delivery, attempt, _ = start_attempt(session, delivery_id, now=later)
        finish_attempt(
            session,
            delivery,
            attempt,
            outcome="acknowledged",
            status_code=202,
            detail='{"reference": "PANEL-77"}',
            addressee_reference="PANEL-77",
        )
    with db.session_scope() as session:
        delivery = get_delivery(session, "812", delivery_id)
        assert delivery.status == "acknowledged" and delivery.attempts == 2
        assert delivery.acknowledged_at.tzinfo is not None
        assert delivery.first_attempt_at <= delivery.acknowledged_at
        assert delivery.addressee_reference == "PANEL-77"
        assert [(a.number, a.outcome, a.status_code) for a in delivery.attempt_log] == [
            (1, "transient", 503),
            (2, "acknowledged", 202),
        ]
        assert start_attempt(session, delivery_id) is None  # a duplicate job finds it done
        page = list_deliveries(session, "812", status="acknowledged")
        assert [d.id for d in page.items] == [delivery_id]
        assert page.items[0].obligation.due == dt.date(2026, 11, 30)
        assert session.scalar(select(func.count()).select_from(DeliveryAttemptRow)) == 2


def test_failed_delivery_can_be_retried_by_hand_and_stuck_ones_are_swept(db):
    with db.session_scope() as session:
        incident = new_incident(session, db.keyring)
        failed = enqueue_delivery(
            session,
            db.keyring,
            incident=incident,
            document="rapid_review",
            addressee="panel",
            payload=b"pdf",
        )
        stuck = enqueue_delivery(
            session,
            db.keyring,
            incident=incident,
            document="rapid_review",
            addressee="ofsted",
            payload=b"pdf",
        )
        delivery, attempt, _ = start_attempt(session, failed.id)
        finish_attempt(
            session, delivery, attempt, outcome="permanent", status_code=400, detail="x" * 5000
        )
        start_attempt(session, stuck.id)
    with db.session_scope() as session:
        assert len(get_delivery(session, "812", failed.id).last_error) == 1000
        assert deliveries_due(session) == []
        soon = utcnow() + STUCK_SENDING_AFTER + dt.timedelta(seconds=1)
        assert [d.id for d in deliveries_due(session, now=soon)] == [stuck.id]
        assert retry_delivery(session, "813", failed.id) is None
        assert retry_delivery(session, "812", failed.id).status == "queued"
        assert failed.id in [d.id for d in deliveries_due(session)]


def test_deliveries_are_scoped(db):
    with db.session_scope() as session:
        mine = new_incident(session, db.keyring, la="812")
        theirs = new_incident(session, db.keyring, la="813")
        enqueue_delivery(
            session,
            db.keyring,
            incident=mine,
            document="incident_notification",
            addressee="panel",
            payload=b"a",
        )
        other = enqueue_delivery(
            session,
            db.keyring,
            incident=theirs,
            document="incident_notification",
            addressee="panel",
            payload=b"b",
        )
    with db.session_scope() as session:
        assert get_delivery(session, "812", other.id) is None
        assert [d.la_code for d in list_deliveries(session, "812").items] == ["812"]
        assert list_deliveries(session, "812", incident_id=theirs.id).items == []
        assert len(list_deliveries(session, "*").items) == 2
        assert list_obligations(session, "812", theirs.id) == []
