"""The dashboard and the deliveries page, and retrying a failed delivery by hand."""

from __future__ import annotations

import html
import re

import pytest
from rq import Worker
from rq.job import Job

from adapter.queue import ALL_QUEUES, RqPublisher, delivery_job_id
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryRow
from tests.web.conftest import World, csrf_token


def text(response) -> str:
    """The page's HTML, asserting it answered 200."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html.unescape(response.get_data(as_text=True))


def plain(page: str) -> str:
    """The page's words without markup, whitespace squeezed (what a screen reader reads)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def row_of(page: str, header: str) -> str:
    """The table row whose header cell says ``header`` (whitespace squeezed)."""
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", page, re.S)
    found = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)) for row in rows if header in row]
    assert found, f"no row for {header}"
    return found[0].strip()


def failed(world: World, la: str) -> DeliveryRow:
    with world.service.database.session_scope() as session:
        return session.query(DeliveryRow).filter_by(la_code=la, status="failed").one()


def test_dashboard_counts_each_addressee_of_the_keys_la(world: World) -> None:
    page = text(world.client("admin", "812").get("/admin/"))
    assert row_of(page, "Ofsted") == "Ofsted 0 0 0 1 failed for Ofsted 0 None waiting"
    panel = row_of(page, "Child Safeguarding Practice Review Panel")
    assert "1 acknowledged for Child Safeguarding Practice Review Panel" in panel
    assert "1 delivery has failed and needs action" in page
    assert "Figures at" in page and ("GMT" in page or "BST" in page)


def test_an_all_la_admin_sees_every_las_queues(world: World) -> None:
    page = text(world.client("admin", "*").get("/admin/"))
    assert "2 failed for Ofsted" in plain(page)
    assert "2 deliveries have failed and need action" in page
    assert "for every local authority" in page


def test_dashboard_shows_the_oldest_waiting_delivery(world: World) -> None:
    world.submit("812")  # queued, not yet worked
    page = text(world.client("compliance", "812").get("/admin/"))
    assert "1 queued for Ofsted" in plain(page)
    assert "ago)" in row_of(page, "Ofsted")


def test_dashboard_shows_worker_heartbeats(world: World) -> None:
    worker = Worker(list(ALL_QUEUES), connection=world.service.redis, name="web-test-worker")
    worker.register_birth()
    worker.heartbeat()
    try:
        page = text(world.client("admin").get("/admin/"))
    finally:
        worker.register_death()
    row = row_of(page, "web-test-worker")
    assert ", ".join(ALL_QUEUES) in row and "ago)" in row
    assert "Not responding" not in row


def test_dashboard_says_workers_are_unknown_when_redis_is_down(world: World) -> None:
    resources = world.service.app.extensions["csins"]
    resources.settings = resources.settings.with_overrides(redis_url="redis://127.0.0.1:1/0")
    world.service.database.publisher = RqPublisher(resources.settings)
    page = text(world.client("admin").get("/admin/"))
    assert "Worker heartbeats are unknown: Redis is not answering." in page
    assert "1 failed for Ofsted" in plain(page)


def test_deliveries_shows_failed_ones_first_with_the_last_response(world: World) -> None:
    page = text(world.client("admin").get("/admin/deliveries"))
    assert '<h1 class="govuk-heading-l">Failed deliveries</h1>' in page
    row = row_of(page, world.incidents["812"][0].reference)
    assert "Looked after child death notification to Ofsted" in row
    assert "400 HTTP 400 Bad Request" in row and "Retry" in row
    assert world.incidents["813"][0].reference not in page


def test_deliveries_filters_by_status_addressee_incident_and_id(world: World) -> None:
    client = world.client("admin", "*")
    everything = text(client.get("/admin/deliveries?status=all"))
    assert everything.count("Acknowledged</strong>") == 4
    assert (
        text(client.get("/admin/deliveries?status=acknowledged&addressee=panel")).count(
            "Acknowledged</strong>"
        )
        == 2
    )
    one = world.incidents["813"][0]
    page = text(client.get(f"/admin/deliveries?status=all&incident={one.id}"))
    assert one.reference in page and world.incidents["812"][0].reference not in page
    delivery = failed(world, "813")
    page = text(client.get(f"/admin/deliveries?delivery={delivery.id}"))
    assert '<h1 class="govuk-heading-l">Delivery</h1>' in page and one.reference in page
    assert "No deliveries match" in text(client.get("/admin/deliveries?addressee=dfe"))
    assert "Failed deliveries" in text(client.get("/admin/deliveries?status=bogus"))


def test_deliveries_are_paginated_with_a_cursor(world: World) -> None:
    client = world.client("admin", "*")
    first = text(client.get("/admin/deliveries?status=all&limit=4"))
    assert first.count("govuk-table__row") == 5  # the header and 4 deliveries
    next_link = re.search(r'href="([^"]+cursor=[^"]+)"', first)
    assert next_link and "status=all" in next_link.group(1) and "limit=4" in next_link.group(1)
    second = text(client.get(html.unescape(next_link.group(1))))
    assert second.count("govuk-table__row") == 3 and "First page" in second
    assert "Next page" not in second


def test_a_cursor_that_was_not_issued_is_a_clear_error(world: World) -> None:
    response = world.client("admin").get("/admin/deliveries?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "That page link is not valid" in response.get_data(as_text=True)


def test_a_compliance_officer_sees_no_retry_button_and_cannot_retry(world: World) -> None:
    client = world.client("compliance")
    page = text(client.get("/admin/deliveries"))
    assert "An admin can retry it" in page and ">Retry<" not in page
    delivery = failed(world, "812")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/retry",
        data={"csrf_token": csrf_token(client, "/admin/deliveries")},
    )
    assert response.status_code == 403
    assert failed(world, "812").id == delivery.id


def test_an_admin_retries_a_failed_delivery(world: World) -> None:
    client = world.client("admin")
    delivery = failed(world, "812")
    token = csrf_token(client, "/admin/deliveries")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/retry",
        data={"csrf_token": token, "next": "/admin/deliveries?status=failed"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/deliveries?status=failed"
    assert "is queued to be sent again" in text(client.get(response.headers["Location"]))
    with world.service.database.session_scope() as session:
        assert session.get(DeliveryRow, delivery.id).status == "queued"
        line = session.query(AuditEntryRow).filter_by(action="delivery.retried").one()
        assert (line.object_id, line.la_code, line.actor_role) == (delivery.id, "812", "admin")
    assert Job.exists(delivery_job_id(delivery.id, 1), connection=world.service.redis)
    world.service.sandbox.state.clear_faults()
    world.service.work()
    with world.service.database.session_scope() as session:
        assert session.get(DeliveryRow, delivery.id).status == "acknowledged"


def test_retry_needs_a_csrf_token(world: World) -> None:
    client = world.client("admin")
    delivery = failed(world, "812")
    assert client.post(f"/admin/deliveries/{delivery.id}/retry").status_code == 400
    assert failed(world, "812").id == delivery.id


def test_another_las_delivery_cannot_be_retried(world: World) -> None:
    client = world.client("admin", "813")
    delivery = failed(world, "812")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/retry",
        data={"csrf_token": csrf_token(client, "/admin/deliveries")},
    )
    assert response.status_code == 404
    assert failed(world, "812").id == delivery.id


def test_only_a_failed_delivery_is_retried(world: World) -> None:
    client = world.client("admin")
    with world.service.database.session_scope() as session:
        done = session.query(DeliveryRow).filter_by(la_code="812", status="acknowledged").first()
        assert done is not None
        done_id = done.id
    response = client.post(
        f"/admin/deliveries/{done_id}/retry",
        data={"csrf_token": csrf_token(client, "/admin/deliveries")},
    )
    assert response.status_code == 302
    assert "only a failed delivery can be retried" in text(client.get("/admin/deliveries"))
    with world.service.database.session_scope() as session:
        assert session.get(DeliveryRow, done_id).status == "acknowledged"
        assert session.query(AuditEntryRow).filter_by(action="delivery.retried").count() == 0


def test_a_retry_with_redis_down_is_still_recorded(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    resources = world.service.app.extensions["csins"]
    resources.settings = resources.settings.with_overrides(redis_url="redis://127.0.0.1:1/0")
    world.service.database.publisher = RqPublisher(resources.settings)  # as init_app would
    client = world.client("admin")
    delivery = failed(world, "812")
    response = client.post(
        f"/admin/deliveries/{delivery.id}/retry",
        data={"csrf_token": csrf_token(client, "/admin/deliveries")},
    )
    assert response.status_code == 302
    with world.service.database.session_scope() as session:
        assert session.get(DeliveryRow, delivery.id).status == "queued"
    assert "the sweeper will" in caplog.text
