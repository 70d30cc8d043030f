"""Incidents: one per (LA, reference) (§2), idempotent resubmission, amendments, tenancy."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from adapter.clock import utcnow
from adapter.store import ALL_LAS, OutOfScope, RecordMismatch
from adapter.store.events import add_event, list_events
from adapter.store.incident_versions import add_version
from adapter.store.incidents import (
    child_details,
    current_record,
    get_incident,
    get_incident_by_reference,
    list_incidents,
    list_versions,
    set_incident_status,
    version_record,
)
from adapter.store.models import (
    ChildRow,
    IncidentRow,
    LocalAuthorityRow,
)
from adapter.store.new_incidents import create_incident
from adapter.store.tracker import list_deadlines, replace_obligations
from tests.store.factories import CHILD_NHS_NUMBER, make_event, make_obligation, make_record
from tests.support.locks import waits_for_a_lock


def submit(db, record, *, scope=None, **kwargs):
    with db.session_scope() as session:
        return create_incident(
            session,
            db.keyring,
            la_scope=scope or record["local_authority"]["code"],
            record=record,
            **kwargs,
        )


def test_create_then_identical_then_conflict(db):
    record = make_record()
    first = submit(db, record, key_id=None)
    assert first.outcome == "created"
    assert first.incident.current_version == 1 and first.incident.status == "received"

    again = submit(db, make_record())
    assert again.outcome == "identical" and again.incident.id == first.incident.id

    changed = submit(db, make_record(summary="a different outline"))
    assert changed.outcome == "conflict" and changed.incident.id == first.incident.id

    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1
        assert session.get(LocalAuthorityRow, "812").name == "North East Lincolnshire"


def test_idempotency_key_answers_a_retried_request(db):
    first = submit(db, make_record(reference="A-1"), idempotency_key="req-1")
    retried = submit(db, make_record(reference="A-1"), idempotency_key="req-1")
    assert retried.outcome == "identical" and retried.incident.id == first.incident.id
    reused = submit(db, make_record(reference="A-2"), idempotency_key="req-1")
    assert reused.outcome == "conflict" and reused.incident.id == first.incident.id
    # The same key in another LA is another request.
    other = submit(db, make_record(la="813", reference="A-1"), idempotency_key="req-1")
    assert other.outcome == "created"


def test_record_and_children_are_stored_and_read_back(db):
    record = make_record(children=2)
    created = submit(db, record)
    with db.session_scope() as session:
        incident = get_incident(session, "812", created.incident.id)
        assert current_record(session, db.keyring, incident) == record
        children = incident.children
        assert [c.index for c in children] == [0, 1]
        assert children[0].outcome == "died" and children[0].looked_after is True
        assert child_details(db.keyring, children[1])["local_id"] == "MOS-1"
        assert child_details(db.keyring, children[0])["nhs_number"] == CHILD_NHS_NUMBER


def test_amendment_adds_a_version_and_replaces_children(db):
    created = submit(db, make_record(children=2))
    amended = make_record(children=1, summary="facts that emerged later")
    with db.session_scope() as session:
        result = add_version(
            session, db.keyring, la_scope="812", incident_id=created.incident.id, record=amended
        )
        assert result is not None and result.created and result.version.version == 2
    with db.session_scope() as session:
        incident = get_incident(session, "812", created.incident.id)
        assert incident.current_version == 2
        assert current_record(session, db.keyring, incident) == amended
        versions = list_versions(session, "812", incident.id)
        assert [v.version for v in versions] == [1, 2]
        assert version_record(db.keyring, versions[0])["children"][1]["local_id"] == "MOS-1"
        assert [c.version for c in incident.children] == [2]
        assert session.scalar(select(func.count()).select_from(ChildRow)) == 1
        same = add_version(
            session, db.keyring, la_scope="812", incident_id=incident.id, record=amended
        )
        assert same is not None and not same.created and same.version.version == 2
        # A resubmission of the original is now a conflict with the amended incident.
    assert submit(db, make_record(children=2)).outcome == "conflict"


def test_amendment_cannot_move_an_incident(db):
    created = submit(db, make_record())
    with db.session_scope() as session, pytest.raises(RecordMismatch):
        add_version(
            session,
            db.keyring,
            la_scope="812",
            incident_id=created.incident.id,
            record=make_record(reference="OTHER"),
        )


def test_another_las_incident_is_invisible(db):
    mine = submit(db, make_record(la="812", reference="R-1")).incident
    theirs = submit(db, make_record(la="813", reference="R-1")).incident
    assert mine.id != theirs.id
    with db.session_scope() as session:
        replace_obligations(
            session, la_scope="812", incident_id=mine.id, obligations=[make_obligation()]
        )
        add_event(session, db.keyring, la_scope="812", incident_id=mine.id, event=make_event())
    with db.session_scope() as session:
        assert get_incident(session, "813", mine.id) is None
        assert get_incident_by_reference(session, "813", "812", "R-1") is None
        assert get_incident_by_reference(session, "813", "813", "R-1").id == theirs.id
        assert [i.id for i in list_incidents(session, "813").items] == [theirs.id]
        assert list_versions(session, "813", mine.id) == []
        assert list_events(session, "813", mine.id) == []
        assert list_deadlines(session, "813").items == []
        assert (
            add_version(
                session,
                db.keyring,
                la_scope="813",
                incident_id=mine.id,
                record=make_record(la="813", reference="R-1"),
            )
            is None
        )
        assert (
            add_event(session, db.keyring, la_scope="813", incident_id=mine.id, event=make_event())
            is None
        )
        assert (
            replace_obligations(session, la_scope="813", incident_id=mine.id, obligations=[])
            is None
        )
        assert set_incident_status(session, "813", mine.id, "withdrawn") is None
        assert get_incident(session, "812", mine.id).status == "received"
        # The all-LA scope of an operator's admin key sees both.
        assert {i.id for i in list_incidents(session, ALL_LAS).items} == {mine.id, theirs.id}


def test_a_key_cannot_submit_for_another_la(db):
    with pytest.raises(OutOfScope):
        submit(db, make_record(la="813"), scope="812")
    with pytest.raises(OutOfScope):  # an incident belongs to one LA, never to "every LA"
        submit(db, make_record(la=ALL_LAS), scope=ALL_LAS)
    with db.session_scope() as session, pytest.raises(OutOfScope):
        get_incident(session, "", "any-id")


@pytest.mark.parametrize("same_time", [False, True])
def test_list_incidents_pages_with_a_cursor(db, same_time):
    ids = [submit(db, make_record(reference=f"R-{n}")).incident.id for n in range(5)]
    if same_time:  # ties on created_at are broken by id
        with db.session_scope() as session:
            session.execute(update(IncidentRow).values(created_at=utcnow()))
    seen, cursor = [], None
    with db.session_scope() as session:
        while True:
            page = list_incidents(session, "812", cursor=cursor, limit=2)
            seen += [i.id for i in page.items]
            if page.next is None:
                break
            cursor = page.next
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def run_concurrently(db, count, record):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(submit(db, record).outcome)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return sorted(results)


def test_concurrent_submissions_of_one_reference_make_one_incident(db):
    outcomes = run_concurrently(db, 4, make_record(reference="RACE-1"))
    assert outcomes == ["created", "identical", "identical", "identical"]
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1


def test_losing_insert_reads_the_winner_postgresql(db):
    """Force the race on PostgreSQL: B finds nothing, then blocks inserting until A commits."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: this race cannot happen there")
    submit(db, make_record(reference="SEED"))  # the LA row exists, as it would in production
    record = make_record(reference="RACE-2")
    session_a = db.session()
    session_a.begin()
    first = create_incident(session_a, db.keyring, la_scope="812", record=record)
    outcome = {}

    def submit_b():
        outcome["b"] = submit(db, record)

    thread = threading.Thread(target=submit_b)
    thread.start()
    blocked = waits_for_a_lock(db.engine)
    session_a.commit()
    session_a.close()
    thread.join(30)
    assert blocked, "B never waited on A's uncommitted row"
    assert first.outcome == "created"
    assert outcome["b"].outcome == "identical" and outcome["b"].incident.id == first.incident.id


def test_a_taken_reference_leaves_the_transaction_usable(db):
    """On every backend: the insert that finds the reference taken inserts nothing and raises
    nothing (ON CONFLICT DO NOTHING), so the rest of the caller's transaction still commits."""
    from adapter.store.audit_log import audit, list_audit

    first = submit(db, make_record())
    with db.session_scope() as session:
        audit(session, action="before", la_code="812")
        again = create_incident(session, db.keyring, la_scope="812", record=make_record())
        audit(session, action="after", la_code="812")
    assert again.outcome == "identical" and again.incident.id == first.incident.id
    with db.session_scope() as session:
        assert [e.action for e in list_audit(session, "812").items] == ["after", "before"]
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1
