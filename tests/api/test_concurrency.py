"""Concurrent identical submissions create one incident (DESIGN.md §4: one notification each)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from adapter.sandbox.state import Fault
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryRow, IncidentRow, IncidentVersionRow
from tests.support.api import API, LOCAL_REVIEW, document_event, new_record, submit
from tests.support.service import Service

THREADS = 4
ROUNDS = 3


def race(service: Service, post: Callable[[Any], Any]) -> list[Any]:
    """Run ``post(client)`` in :data:`THREADS` threads released at the same instant."""
    barrier = threading.Barrier(THREADS)
    responses: list[Any] = [None] * THREADS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        client = service.app.test_client()
        try:
            barrier.wait(timeout=10)
            responses[index] = post(client)
        except BaseException as error:  # reported by the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return responses


def counts(service: Service, reference: str) -> tuple[int, int]:
    """Incidents under ``reference``, and their deliveries."""
    with service.database.session_scope() as session:
        incidents = session.scalar(
            select(func.count()).select_from(IncidentRow).where(IncidentRow.reference == reference)
        )
        deliveries = session.scalar(
            select(func.count())
            .select_from(DeliveryRow)
            .join(IncidentRow, IncidentRow.id == DeliveryRow.incident_id)
            .where(IncidentRow.reference == reference)
        )
    return int(incidents or 0), int(deliveries or 0)


def post_record(
    client: Any, *, record: dict[str, Any], headers: dict[str, str], path: str = f"{API}/incidents"
) -> Any:
    return client.post(path, json=record, headers=headers)


def test_concurrent_identical_submissions_create_one_incident(
    service: Service, la_key: str
) -> None:
    headers = service.headers(la_key)
    for _ in range(ROUNDS):
        record = new_record()
        responses = race(service, functools.partial(post_record, record=record, headers=headers))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] * (THREADS - 1) + [201], [r.get_json() for r in responses]
        assert len({response.get_json()["id"] for response in responses}) == 1
        assert counts(service, record["incident"]["reference"]) == (1, 3)


def test_concurrent_retries_with_one_idempotency_key_create_one_incident(
    service: Service, la_key: str
) -> None:
    headers = service.headers(la_key, **{"Idempotency-Key": "retry-me"})
    record = new_record()
    responses = race(
        service, lambda client: client.post(f"{API}/incidents", json=record, headers=headers)
    )
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    assert counts(service, record["incident"]["reference"]) == (1, 3)


def test_concurrent_different_content_under_one_reference_creates_one_incident(
    service: Service, la_key: str
) -> None:
    headers = service.headers(la_key)
    record = new_record()
    bodies = [
        {**record, "incident": {**record["incident"], "summary": f"version {index}"}}
        for index in range(THREADS)
    ]
    turn = iter(range(THREADS))
    lock = threading.Lock()

    def post(client: Any) -> Any:
        with lock:
            body = bodies[next(turn)]
        return client.post(f"{API}/incidents", json=body, headers=headers)

    responses = race(service, post)
    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1)
    assert counts(service, record["incident"]["reference"]) == (1, 3)


def versions_of(service: Service, incident_id: str) -> list[int]:
    with service.database.session_scope() as session:
        return sorted(
            session.scalars(
                select(IncidentVersionRow.version).where(
                    IncidentVersionRow.incident_id == incident_id
                )
            )
        )


def test_concurrent_different_amendments_get_consecutive_versions(
    service: Service, la_key: str
) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    headers = service.headers(la_key)
    bodies = iter(
        [{**record, "incident": {**record["incident"], "summary": f"fact {n}"}} for n in range(9)]
    )
    lock = threading.Lock()

    def amend(client: Any) -> Any:
        with lock:
            body = next(bodies)
        return client.post(f"{API}/incidents/{incident_id}/amendments", json=body, headers=headers)

    responses = race(service, amend)
    assert sorted(r.status_code for r in responses) == [201] * THREADS, [
        r.get_json() for r in responses
    ]
    assert versions_of(service, incident_id) == list(range(1, THREADS + 2))
    shown = service.get(f"{API}/incidents/{incident_id}", la_key).get_json()
    assert shown["current_version"] == THREADS + 1


def test_concurrent_identical_amendments_make_one_version(service: Service, la_key: str) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    service.work()
    changed = {**record, "incident": {**record["incident"], "summary": "one new fact"}}
    headers = service.headers(la_key)
    responses = race(
        service,
        functools.partial(
            post_record,
            record=changed,
            headers=headers,
            path=f"{API}/incidents/{incident_id}/amendments",
        ),
    )
    assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
    assert versions_of(service, incident_id) == [1, 2]
    deliveries = service.get(f"{API}/deliveries", la_key, incident=incident_id).get_json()
    assert [d["document"] for d in deliveries["items"]].count("amendment") == 3


def test_concurrent_identical_events_are_recorded_once(service: Service, la_key: str) -> None:
    incident_id = submit(service, la_key)["id"]
    event = document_event("rapid_review_completed", on="2026-11-24")
    responses = race(
        service,
        functools.partial(
            post_record,
            record=event,
            headers=service.headers(la_key),
            path=f"{API}/incidents/{incident_id}/events",
        ),
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1)
    timeline = service.get(f"{API}/incidents/{incident_id}", la_key).get_json()["timeline"]
    assert [e["summary"] for e in timeline if e["kind"] == "event"] == [
        "rapid_review_completed on 2026-11-24"
    ]
    later = document_event("lcspr_decided", on="2026-11-25", **LOCAL_REVIEW)
    assert service.post(f"{API}/incidents/{incident_id}/events", la_key, later).status_code == 201


def test_concurrent_retries_of_a_failed_delivery_requeue_it_once(
    service: Service, la_key: str
) -> None:
    service.sandbox.state.add_faults([Fault(addressee="panel", status=400)])
    created = submit(service, la_key)
    service.work()
    service.sandbox.state.clear_faults()
    (panel,) = [d for d in created["deliveries"] if d["addressee"] == "panel"]
    admin = service.headers(service.key("admin", "812"))
    responses = race(
        service,
        lambda client: client.post(f"{API}/deliveries/{panel['id']}/retry", headers=admin),
    )
    assert sorted(r.status_code for r in responses) == [202] + [409] * (THREADS - 1)
    with service.database.session_scope() as session:
        retried = session.scalar(
            select(func.count())
            .select_from(AuditEntryRow)
            .where(AuditEntryRow.action == "delivery.retried")
        )
    assert retried == 1
