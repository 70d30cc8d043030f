"""Deadlines due soon and overdue, the incidents list, and one incident's timeline."""

from __future__ import annotations

import datetime as dt

from adapter.clock import london_today
from adapter.web.pages_incidents import due_soon_cutoff
from config.settings import Policy
from tests.web.conftest import World
from tests.web.test_queues import plain, row_of, text


def test_deadlines_show_each_with_its_status_and_explanation(world: World) -> None:
    page = text(world.client("compliance").get("/admin/deadlines?show=all"))
    reference = world.incidents["812"][0].reference
    row = row_of(page, "Incident notification")
    assert "30 November 2026" in row and reference in row
    assert "5 working days after 2026-11-23 (became aware)" in row
    assert "Met" in row  # the Panel acknowledged it
    assert "Rapid review" in page and "15 working days after 2026-11-23" in page
    assert world.incidents["813"][0].reference not in page


def test_overdue_and_due_soon_deadlines_are_the_default_view(world: World) -> None:
    late = world.submit(
        "812",
        date="2026-01-02",
        became_aware_on="2026-01-05",
        child={"date_of_death": "2026-01-02"},
    )
    today = london_today()
    recent = world.submit(
        "812",
        date=today.isoformat(),
        became_aware_on=today.isoformat(),
        child={"date_of_death": today.isoformat()},
    )
    client = world.client("admin")
    at_risk = text(client.get("/admin/deadlines"))
    assert "Due soon or overdue" in at_risk
    assert late.reference in at_risk and recent.reference not in at_risk
    assert "Overdue</strong>" in at_risk
    overdue = text(client.get("/admin/deadlines?show=overdue"))
    assert late.reference in overdue and world.incidents["812"][0].reference not in overdue
    every_open = text(client.get("/admin/deadlines?show=open"))
    assert recent.reference in every_open and late.reference in every_open


def test_deadlines_filter_by_addressee_and_document(world: World) -> None:
    client = world.client("admin", "*")
    page = plain(text(client.get("/admin/deadlines?show=all&addressee=ofsted")))
    assert "to Ofsted" in page and "to Child Safeguarding" not in page
    page = plain(text(client.get("/admin/deadlines?show=all&document=rapid_review")))
    assert page.count("Rapid review to") == 2  # one per LA


def test_the_due_soon_cutoff_counts_working_days() -> None:
    # Friday 25 December 2026 is Christmas Day: two working days after Wednesday 23rd skip it.
    assert due_soon_cutoff(dt.date(2026, 12, 23), Policy()) == dt.date(2026, 12, 29)


def test_incidents_list_is_scoped_and_filterable(world: World) -> None:
    ours, theirs = world.incidents["812"][0], world.incidents["813"][0]
    page = text(world.client("admin", "812").get("/admin/incidents"))
    assert ours.reference in page and theirs.reference not in page
    everything = world.client("admin", "*")
    assert theirs.reference in text(everything.get("/admin/incidents"))
    found = text(everything.get(f"/admin/incidents?reference={theirs.reference}"))
    assert theirs.reference in found and ours.reference not in found
    assert "No incidents match" in text(everything.get("/admin/incidents?status=referral"))
    assert ours.reference in text(everything.get("/admin/incidents?status=notifiable"))


def test_an_incident_page_shows_its_deadlines_deliveries_receipts_and_timeline(
    world: World,
) -> None:
    incident = world.incidents["812"][0]
    page = text(world.client("compliance").get(f"/admin/incidents/{incident.id}"))
    words = plain(page)
    assert f"Incident {incident.reference}" in words
    assert "Deadlines" in words and "Deliveries and attempts" in words and "Timeline" in words
    assert "Receipt 1" in words or "Receipt 2" in words
    assert "Failed: see deliveries" in words
    assert "version 1 (submitted)" in words
    assert "incident notification to Child Safeguarding Practice Review Panel queued" in words
    assert "receipt 1 signed" in words or "receipt 2 signed" in words
    assert "permanent (400)" in words
    # No personal data: the record stays encrypted and unopened.
    assert "Sam" not in words and "Zephyrine" not in words and "MOS-" not in words


def test_another_las_incident_is_not_found(world: World) -> None:
    theirs = world.incidents["813"][0]
    response = world.client("admin", "812").get(f"/admin/incidents/{theirs.id}")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)
    assert world.client("admin", "*").get(f"/admin/incidents/{theirs.id}").status_code == 200
