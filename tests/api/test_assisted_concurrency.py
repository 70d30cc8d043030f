"""Confirmations of one assisted submission recorded at the same time (DESIGN.md §6, issue 15).

A double-clicked form or a case system retrying sends the same confirmation twice at once: one
records it, the other must answer "unchanged", not record a second submission covering nothing;
a different confirmation sent at the same time must be refused (409), not silently kept.

PostgreSQL runs the two transactions side by side: the tests hold the first one open (recorded,
not committed) until the second is seen waiting for its locks, then commit it, so the second
always decides after the first has committed. SQLite serialises writers (``BEGIN IMMEDIATE``):
there the barrier race below is the only one that can happen.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from adapter.service import assisted
from adapter.store.access_models import AuditEntryRow
from adapter.store.api_keys import Principal
from adapter.store.models import AssistedSubmissionRow, DeliveryRow
from tests.api.test_assisted import SUBMITTED_AT, by_document, confirmation, handed_over
from tests.api.test_concurrency import race
from tests.support.api import API
from tests.support.clock import NOW
from tests.support.locks import waits_for_a_lock
from tests.support.service import Service
from tests.web.conftest import csrf_token, sign_in


def postgresql_only(service: Service) -> None:
    if service.database.dialect != "postgresql":
        pytest.skip("SQLite serialises writers at BEGIN IMMEDIATE: this race cannot happen there")


@contextmanager
def recorded_uncommitted(service: Service, delivery_id: str) -> Iterator[None]:
    """The task of ``delivery_id`` recorded (the default :func:`confirmation`) by a transaction
    left open, with its locks, until the block ends; committed then."""
    res = service.app.extensions["csins"]
    who = Principal(key_id=None, la_code="812", role="admin")
    first = assisted.Confirmation(
        confirmation()["reference"],
        confirmation()["submitted_by"],
        dt.datetime.fromisoformat(SUBMITTED_AT),
    )
    with service.database.session() as session, session.begin():
        recording = assisted.record_confirmation(
            session,
            res.keyring,
            res.settings,
            res.signer(),
            who,
            delivery_id,
            first,
            destination=assisted.CSINS,
            now=NOW,
            via="api",
        )
        assert recording.result is assisted.Result.RECORDED
        yield


def behind_the_first(service: Service, delivery_id: str, request: Callable[[], Any]) -> Any:
    """``request``'s response, sent while the first confirmation of ``delivery_id``'s task is
    recorded and not committed: it must wait for the first's locks, and decides after it."""
    answers: list[Any] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            answers.append(request())
        except BaseException as error:  # reported by the test thread below
            errors.append(error)

    thread = threading.Thread(target=send)
    with recorded_uncommitted(service, delivery_id):
        thread.start()
        blocked = waits_for_a_lock(service.database.engine)
    thread.join(60)
    assert not errors, errors
    assert blocked, "the second confirmation never waited for the first's locks"
    return answers[0]


def recorded(service: Service) -> tuple[int, int]:
    """Submissions recorded, and their ``submission.recorded`` audit lines."""
    with service.database.session_scope() as session:
        rows = session.scalar(select(func.count()).select_from(AssistedSubmissionRow))
        audited = session.scalar(
            select(func.count())
            .select_from(AuditEntryRow)
            .where(AuditEntryRow.action == "submission.recorded")
        )
    return int(rows or 0), int(audited or 0)


def open_copies(service: Service, la_key: str) -> list[DeliveryRow]:
    """The deliveries of a notification handed to a person, one task."""
    incident = handed_over(service, la_key)
    return by_document(service, incident["id"])["looked_after_child_death_notification"]


def test_the_same_confirmation_sent_while_the_first_commits_is_unchanged(
    assisted: Service, la_key: str
):
    postgresql_only(assisted)
    copies = open_copies(assisted, la_key)
    admin = assisted.key("admin")
    path = f"{API}/deliveries/{copies[-1].id}/confirmation"
    second = behind_the_first(
        assisted, copies[0].id, lambda: assisted.post(path, admin, confirmation())
    )
    assert second.status_code == 200, second.get_json()
    assert sorted(d["id"] for d in second.get_json()["deliveries"]) == sorted(c.id for c in copies)
    assert recorded(assisted) == (1, 1)


def test_another_confirmation_sent_while_the_first_commits_is_a_conflict(
    assisted: Service, la_key: str
):
    postgresql_only(assisted)
    copies = open_copies(assisted, la_key)
    admin = assisted.key("admin")
    path = f"{API}/deliveries/{copies[0].id}/confirmation"
    second = behind_the_first(
        assisted, copies[0].id, lambda: assisted.post(path, admin, confirmation(reference="X-9"))
    )
    assert second.status_code == 409, second.get_json()
    assert "CSINS-2026-000123" in second.get_json()["detail"]
    assert recorded(assisted) == (1, 1)


def test_a_form_sent_again_while_the_first_commits_records_nothing_more(
    assisted: Service, la_key: str
):
    postgresql_only(assisted)
    copies = open_copies(assisted, la_key)
    client = assisted.app.test_client()
    assert sign_in(client, assisted.key("admin")).status_code == 302
    path = f"/admin/submissions/{copies[0].id}"
    form = {
        "csrf_token": csrf_token(client, path),
        "reference": confirmation()["reference"],
        "submitted_by": confirmation()["submitted_by"],
        "submitted_on": "2026-11-27",
        "submitted_time": "09:40",  # SUBMITTED_AT, in London
    }
    second = behind_the_first(assisted, copies[0].id, lambda: client.post(path, data=form))
    assert second.status_code == 302
    assert second.location.endswith(f"/admin/incidents/{copies[0].incident_id}")
    assert recorded(assisted) == (1, 1)


def test_concurrent_identical_confirmations_record_one_submission(assisted: Service, la_key: str):
    """On every backend: released at once, one records, the others answer "unchanged"."""
    copies = open_copies(assisted, la_key)
    headers = assisted.headers(assisted.key("admin"))
    responses = race(
        assisted,
        lambda client: client.post(
            f"{API}/deliveries/{copies[0].id}/confirmation", json=confirmation(), headers=headers
        ),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (len(responses) - 1) + [201], [r.get_json() for r in responses]
    assert recorded(assisted) == (1, 1)
