"""GET /api/v1/deadlines.ics: a calendar client's view of the feed is GET /deadlines' open ones.

Each test freezes the clock (time_machine) on a day of its own and parses what the feed serves
with the ``icalendar`` package, as a calendar client would.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from adapter.store import feed_tokens
from tests.store.factories import CHILD_FORENAMES, CHILD_NHS_NUMBER, CHILD_SURNAME
from tests.support.api import API, OTHER_LA, assert_problem, new_record, submit
from tests.support.service import Service

LONDON = ZoneInfo("Europe/London")
TODAY = dt.date(2026, 11, 24)
"""A Tuesday: the sample records became aware on Monday 2026-11-23."""

OPEN = ("pending", "due_soon", "overdue")


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(at(TODAY), tick=False) as traveller:
        yield traveller


def feed(service: Service, key: str | None = None, **params: str) -> Calendar:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = service.client.get(f"{API}/deadlines.ics", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.get_data())


def events(calendar: Calendar) -> dict[str, Any]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def open_deadlines(service: Service, key: str) -> list[dict[str, Any]]:
    response = service.get(f"{API}/deadlines", key, limit=200)
    assert response.status_code == 200
    return [item for item in response.get_json()["items"] if item["status"] in OPEN]


def uid(item: dict[str, Any]) -> str:
    return f"{item['incident_id']}.{item['document']}.{item['addressee']}@csins-adapter"


def test_the_feed_shows_the_open_deadlines_of_get_deadlines(
    service: Service, la_key: str, frozen: Any
) -> None:
    delivered = submit(service, la_key)
    service.work()  # the first incident's notifications are acknowledged: met, out of the feed
    record = new_record()
    second = submit(service, la_key, record)
    references = {delivered["id"]: delivered["reference"], second["id"]: second["reference"]}
    expected = open_deadlines(service, la_key)
    met = [
        item
        for item in service.get(f"{API}/deadlines", la_key).get_json()["items"]
        if item["incident_id"] == delivered["id"] and item["status"] == "met"
    ]
    assert expected and met

    shown = events(feed(service, la_key))

    assert set(shown) == {uid(item) for item in expected}
    for item in expected:
        event = shown[uid(item)]
        assert event.decoded("DTSTART") == dt.date.fromisoformat(item["due"])
        assert event.decoded("DTEND") == dt.date.fromisoformat(item["due"]) + dt.timedelta(days=1)
        reference = references[item["incident_id"]]
        assert str(event["SUMMARY"]).endswith(f"\u2013 {reference}")
        assert item["explanation"] in str(event["DESCRIPTION"])
        assert f"/admin/incidents/{item['incident_id']}" in str(event["URL"])


def test_the_feed_names_no_child(service: Service, la_key: str, frozen: Any) -> None:
    submit(service, la_key)
    response = service.client.get(
        f"{API}/deadlines.ics", headers={"Authorization": f"Bearer {la_key}"}
    )
    body = response.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body
    for personal in (CHILD_FORENAMES, CHILD_SURNAME, CHILD_NHS_NUMBER):
        assert personal not in body


def test_a_feed_token_reads_its_own_la_only(service: Service, la_key: str, frozen: Any) -> None:
    mine = submit(service, la_key)
    submit(service, service.key("local_authority", OTHER_LA), new_record(la=OTHER_LA))
    with service.database.session_scope() as session:
        token = feed_tokens.create_token(session, la_code="812", label="Safeguarding lead").token

    shown = events(feed(service, token=token))

    assert shown and {event["UID"].split(".")[0] for event in shown.values()} == {mine["id"]}
    assert set(shown) == {uid(item) for item in open_deadlines(service, la_key)}


def test_a_revoked_or_made_up_feed_token_is_refused(
    service: Service, la_key: str, frozen: Any
) -> None:
    with service.database.session_scope() as session:
        made = feed_tokens.create_token(session, la_code="812", label="Business support")
    assert (
        service.client.get(f"{API}/deadlines.ics", query_string={"token": made.token}).status_code
        == 200
    )
    with service.database.session_scope() as session:
        assert feed_tokens.revoke_token(session, made.prefix, "812") is not None

    for token in (made.token, made.token[:-4] + "AAAA", la_key, ""):
        response = service.client.get(f"{API}/deadlines.ics", query_string={"token": token})
        assert_problem(response, 401)
    assert_problem(service.client.get(f"{API}/deadlines.ics"), 401)


def test_a_key_that_cannot_read_deadlines_is_refused(service: Service, frozen: Any) -> None:
    response = service.client.get(
        f"{API}/deadlines.ics",
        headers={"Authorization": f"Bearer {service.key('agency', '812')}"},
    )
    assert_problem(response, 403)


def test_another_las_token_cannot_be_revoked_from_here(service: Service) -> None:
    with service.database.session_scope() as session:
        made = feed_tokens.create_token(session, la_code="812", label="Lead")
        assert feed_tokens.revoke_token(session, made.prefix, OTHER_LA) is None
        assert [row.prefix for row in feed_tokens.list_tokens(session, OTHER_LA)] == []
        assert [row.prefix for row in feed_tokens.list_tokens(session, "812")] == [made.prefix]


@pytest.mark.parametrize(
    ("label", "la"), [("", "812"), ("x" * 201, "812"), ("Lead", "*"), ("Lead", "81")]
)
def test_a_feed_token_needs_a_label_and_one_la(service: Service, label: str, la: str) -> None:
    with service.database.session_scope() as session, pytest.raises(feed_tokens.FeedTokenError):
        feed_tokens.create_token(session, la_code=la, label=label)


def test_uids_stay_and_sequence_rises_as_status_and_due_day_change(
    service: Service, la_key: str
) -> None:
    """§5: a status changes at midnight in London; a re-plan can move a due day."""
    record = new_record()
    with time_machine.travel(at(TODAY), tick=False):
        incident = submit(service, la_key, record)
        first = events(feed(service, la_key))
        again = events(feed(service, la_key))
    assert {u: e["SEQUENCE"] for u, e in first.items()} == {
        u: e["SEQUENCE"] for u, e in again.items()
    }
    notification = f"{incident['id']}.incident_notification.panel@csins-adapter"
    assert "Pending" in str(first[notification]["CATEGORIES"].to_ical())

    # Due 2026-11-30 (5 working days after Monday 23rd): due soon from Thursday 26th.
    with time_machine.travel(at(dt.date(2026, 11, 26)), tick=False):
        later = events(feed(service, la_key))
    assert set(later) == set(first)
    assert later[notification]["SEQUENCE"] > first[notification]["SEQUENCE"]
    assert str(later[notification]["DESCRIPTION"]).startswith("Due soon")

    with time_machine.travel(at(dt.date(2026, 12, 1)), tick=False):
        overdue = events(feed(service, la_key))
        record["incident"]["became_aware_on"] = "2026-11-24"  # an amendment moves every due day
        amended = service.post(f"{API}/incidents/{incident['id']}/amendments", la_key, record)
        assert amended.status_code in (200, 201), amended.get_json()
        moved = events(feed(service, la_key))
    assert overdue[notification]["SEQUENCE"] > later[notification]["SEQUENCE"]
    assert moved[notification].decoded("DTSTART") == dt.date(2026, 12, 1)
    assert moved[notification]["SEQUENCE"] > overdue[notification]["SEQUENCE"]
