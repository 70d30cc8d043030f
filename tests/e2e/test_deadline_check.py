"""The deadline check against the module's database: it alerts each deadline at risk once,
whoever stored its status, and never waits for a re-plan (DESIGN.md §5, §6)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from adapter.clock import london_today
from adapter.service import alerts
from adapter.store.models import ObligationRow
from tests.e2e.conftest import Stack, make_record


def _late_record() -> dict[str, object]:
    """Notified three weeks after the LA became aware: the notification is overdue already
    when the plan is stored (§2: 5 working days)."""
    aware = london_today() - dt.timedelta(days=21)
    return make_record(date=aware.isoformat(), became_aware_on=aware.isoformat())


def test_a_deadline_stored_overdue_by_its_plan_is_alerted_once(stack: Stack) -> None:
    stack.submit(_late_record())
    with stack.database.session_scope() as session:
        overdue = session.scalars(
            select(ObligationRow).where(ObligationRow.status == "overdue")
        ).all()
        assert overdue, "the plan stored the notification as overdue"
        expected = {row.id for row in overdue}

    stack.check_deadlines()
    alerted = {int(entry.object_id) for entry in stack.alerts(alerts.DEADLINE_OVERDUE)}
    assert alerted == expected

    stack.check_deadlines()
    assert len(stack.alerts(alerts.DEADLINE_OVERDUE)) == len(expected)


def test_the_check_skips_an_obligation_a_replan_holds_and_takes_it_next_time(
    stack: Stack,
) -> None:
    """A re-plan locks the incident, then its obligations; the check locks obligations alone.
    Waiting on each other's rows could deadlock, so the check skips held rows."""
    if stack.database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: no row is held while another runs")
    stack.submit(_late_record())
    with stack.database.session_scope() as session:
        held_id = session.scalars(
            select(ObligationRow.id).where(ObligationRow.status == "overdue")
        ).first()
    assert held_id is not None
    locked, release = threading.Event(), threading.Event()

    def replan() -> None:
        with stack.database.session_scope() as session:
            session.scalars(
                select(ObligationRow).where(ObligationRow.id == held_id).with_for_update()
            ).one()
            locked.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=replan)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        stack.check_deadlines()  # returns without waiting for the held row
        alerted = {int(e.object_id) for e in stack.alerts(alerts.DEADLINE_OVERDUE)}
        assert held_id not in alerted
    finally:
        release.set()
        holder.join(timeout=30)
    stack.check_deadlines()
    alerted = {int(e.object_id) for e in stack.alerts(alerts.DEADLINE_OVERDUE)}
    assert held_id in alerted


def test_a_deadline_moved_away_and_back_into_risk_is_alerted_again(stack: Stack) -> None:
    """A re-plan (an amendment correcting a date) can take a deadline out of risk; if it later
    comes back, that is news again and is alerted again."""
    stack.submit(_late_record())
    stack.check_deadlines()
    with stack.database.session_scope() as session:
        row = session.scalars(
            select(ObligationRow).where(ObligationRow.status == "overdue")
        ).first()
        assert row is not None
        row_id, due = row.id, row.due
        row.due = london_today() + dt.timedelta(days=60)  # as a re-plan would move it
    stack.check_deadlines()
    with stack.database.session_scope() as session:
        session.get_one(ObligationRow, row_id).due = due  # and back
    stack.check_deadlines()
    alerted = [int(e.object_id) for e in stack.alerts(alerts.DEADLINE_OVERDUE)]
    assert alerted.count(row_id) == 2


def test_a_publication_limit_passed_unpublished_owes_the_delay_notice(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§8: a local review decided five months ago and nothing published; forty days on, the
    limit has passed: the check re-plans the incident (nothing else would), the delay notice to
    the Panel and the Secretary of State is owed (overdue at once, due at the limit), and the
    next check alerts it."""
    from jobs import maintenance
    from tests.store.factories import make_event

    today = london_today()
    aware, reviewed, decided = (today - dt.timedelta(days=d) for d in (170, 160, 150))
    response = stack.client.post(
        "/api/v1/incidents",
        json=make_record(date=aware.isoformat(), became_aware_on=aware.isoformat()),
        headers={"Authorization": f"Bearer {stack.key()}"},
    )
    assert response.status_code == 201, response.get_json()
    incident_id = response.get_json()["id"]
    for event in (
        make_event("rapid_review_completed", reviewed.isoformat()),
        make_event(
            "lcspr_decided", decided.isoformat(), decision="local_review", reviewer="J. Reviewer"
        ),
    ):
        recorded = stack.client.post(
            f"/api/v1/incidents/{incident_id}/events",
            json=event,
            headers={"Authorization": f"Bearer {stack.key()}"},
        )
        assert recorded.status_code == 201, recorded.get_json()

    def notices() -> list[ObligationRow]:
        with stack.database.session_scope() as session:
            return list(
                session.scalars(
                    select(ObligationRow).where(
                        ObligationRow.incident_id == incident_id,
                        ObligationRow.document == "publication_delay_notice",
                    )
                )
            )

    stack.check_deadlines()
    assert notices() == []  # the limit is still a month away
    later = maintenance.utcnow() + dt.timedelta(days=40)
    monkeypatch.setattr(maintenance, "utcnow", lambda: later)
    stack.check_deadlines()
    owed = notices()
    assert sorted(row.addressee for row in owed) == ["panel", "secretary_of_state"]
    assert {row.status for row in owed} == {"overdue"}
    stack.check_deadlines()
    alerted = {int(entry.object_id) for entry in stack.alerts(alerts.DEADLINE_OVERDUE)}
    assert {row.id for row in owed} <= alerted
