"""The audit log page: scoped, newest first, filtered by action and date range."""

from __future__ import annotations

import datetime as dt

from adapter.clock import london_today
from adapter.store.access_models import AuditEntryRow
from adapter.store.audit_log import audit
from tests.web.conftest import World
from tests.web.test_queues import plain, text


def test_the_audit_log_lists_the_keys_la_newest_first(world: World) -> None:
    page = plain(text(world.client("compliance", "812").get("/admin/audit")))
    lines = page.split("Audit lines")[1]
    assert lines.index("web.signed_in") < lines.index("alert.delivery_failed")
    assert lines.index("alert.delivery_failed") < lines.index("incident.created")
    assert "LA 812" in lines and "LA 813" not in lines


def test_an_all_la_admin_also_sees_lines_without_an_la(world: World) -> None:
    with world.service.database.session_scope() as session:
        audit(session, action="keys.rotated", actor_role="operator")
    assert "keys.rotated" not in text(world.client("admin", "812").get("/admin/audit"))
    page = plain(text(world.client("admin", "*").get("/admin/audit")))
    assert "keys.rotated" in page and "every LA" in page and "LA 813" in page


def test_the_audit_log_filters_by_action(world: World) -> None:
    page = plain(text(world.client("admin", "*").get("/admin/audit?action=incident.created")))
    lines = page.split("Audit lines")[1]
    assert lines.count("incident.created") == 2 and "alert." not in lines


def test_the_audit_log_filters_by_dates_in_uk_time(world: World) -> None:
    client = world.client("admin", "*")
    today = london_today()
    page = text(client.get(f"/admin/audit?from={today}&to={today}"))
    assert "incident.created" in page
    yesterday = today - dt.timedelta(days=1)
    assert "No audit lines match" in text(client.get(f"/admin/audit?to={yesterday}"))
    assert "No audit lines match" in text(
        client.get(f"/admin/audit?from={today + dt.timedelta(1)}")
    )


def test_a_to_date_before_the_from_date_is_reported(world: World) -> None:
    today = london_today()
    page = text(
        world.client("admin").get(f"/admin/audit?from={today}&to={today - dt.timedelta(days=3)}")
    )
    assert "There is a problem" in page
    assert "must be the same as or after the 'from' date" in page
    assert "incident.created" in page  # the wrong date is not applied


def test_the_audit_log_is_paginated(world: World) -> None:
    client = world.client("admin", "*")
    first = text(client.get("/admin/audit?limit=2"))
    assert first.count('<tr class="govuk-table__row">') == 3  # the header and 2 lines
    assert "Next page" in first and "cursor=" in first
    with world.service.database.session_scope() as session:
        total = session.query(AuditEntryRow).count()
    assert total > 2
