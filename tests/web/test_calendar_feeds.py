"""The calendar feeds page (issue 18): admins make and revoke feed tokens; the address works."""

from __future__ import annotations

import re

from icalendar import Calendar

from adapter.store.access_models import AuditEntryRow
from tests.web.conftest import World, csrf_token
from tests.web.test_queues import text

FEED_URL = re.compile(r'id="new-feed-url">(http[^<]+)<')


def create(world: World, client, label: str, **extra: str):
    return client.post(
        "/admin/calendar-feeds",
        data={"label": label, "csrf_token": csrf_token(client, "/admin/calendar-feeds"), **extra},
    )


def test_an_admin_makes_a_feed_whose_address_a_calendar_reads(world: World) -> None:
    client = world.client("admin")
    assert "/admin/calendar-feeds" in text(client.get("/admin/deadlines"))

    made = create(world, client, "Safeguarding lead")
    assert made.status_code == 200
    url = FEED_URL.search(made.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert "token=csinsfeed_" in url

    feed = world.service.client.get(url.split("localhost", 1)[1])
    assert feed.status_code == 200
    summaries = [str(e["SUMMARY"]) for e in Calendar.from_ical(feed.get_data()).walk("VEVENT")]
    assert summaries and all(s.endswith(world.incidents["812"][0].reference) for s in summaries)

    listing = text(client.get("/admin/calendar-feeds"))
    assert "Safeguarding lead" in listing and "csinsfeed_" not in listing
    with world.service.database.session_scope() as session:
        actions = [row.action for row in session.query(AuditEntryRow).all()]
    assert "feed_token.created" in actions


def test_a_revoked_feed_stops_answering(world: World) -> None:
    client = world.client("admin")
    url = FEED_URL.search(create(world, client, "Team").get_data(as_text=True)).group(1)
    path = url.replace("&amp;", "&").split("localhost", 1)[1]
    prefix = re.search(r"csinsfeed_([0-9a-f]{12})_", url).group(1)
    revoked = client.post(
        f"/admin/calendar-feeds/{prefix}/revoke",
        data={"csrf_token": csrf_token(client, "/admin/calendar-feeds")},
    )
    assert revoked.status_code == 302
    assert world.service.client.get(path).status_code == 401
    assert "Revoked" in text(client.get("/admin/calendar-feeds"))


def test_another_las_admin_cannot_revoke_it_and_compliance_cannot_create(world: World) -> None:
    url = FEED_URL.search(create(world, world.client("admin"), "Lead").get_data(as_text=True))
    prefix = re.search(r"csinsfeed_([0-9a-f]{12})_", url.group(1)).group(1)
    other = world.client("admin", "813")
    assert "Lead" not in text(other.get("/admin/calendar-feeds"))
    refused = other.post(
        f"/admin/calendar-feeds/{prefix}/revoke",
        data={"csrf_token": csrf_token(other, "/admin/calendar-feeds")},
    )
    assert refused.status_code == 404
    compliance = world.client("compliance")
    assert "Ask an admin" in text(compliance.get("/admin/calendar-feeds"))
    assert create(world, compliance, "Me").status_code == 403


def test_a_feed_needs_a_label_and_an_all_la_admin_names_the_la(world: World) -> None:
    client = world.client("admin")
    missing = create(world, client, "  ")
    assert missing.status_code == 400
    assert "say whose calendar" in missing.get_data(as_text=True)
    everyone = world.client("admin", "*")
    assert create(world, everyone, "Lead").status_code == 400
    assert create(world, everyone, "Lead", la="813").status_code == 200
