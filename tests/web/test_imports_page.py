"""The imports page (DESIGN.md §7): each import's status and progress, readable without
JavaScript, with fresh counts for the page's script; nothing personal, scoped to the key's LA."""

from __future__ import annotations

from typing import Any

from tests.conftest import SAMPLES
from tests.service.test_imports import post_upload
from tests.support.service import Service
from tests.web.conftest import sign_in
from tests.web.test_queues import plain, text

NAMED = "SI notification - Zebedee Quartermain DOB 19-07-2014.csv"


def _signed_in(service: Service, role: str = "admin", la: str = "812") -> Any:
    client = service.app.test_client()
    assert sign_in(client, service.key(role, la)).status_code == 302
    return client


def test_an_import_shows_its_progress_as_it_runs(service: Service) -> None:
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    accepted = post_upload(service, service.key(), NAMED, content)
    import_id = accepted.get_json()["id"]
    client = _signed_in(service)

    queued = text(client.get("/admin/imports"))
    words = plain(queued)
    assert "Queued" in words and "0 of 2 rows (0%)" in words
    assert '<progress class="app-progress" max="100" value="0"' in queued
    assert "imports.mjs" in queued  # refreshed in place where JavaScript runs
    assert "Quartermain" not in queued  # the filename may name the child
    (item,) = client.get("/admin/imports/progress.json").get_json()["items"]
    assert (item["id"], item["status"], item["percent"]) == (import_id, "queued", 0)
    # what the script writes into a row it has not seen, as the page writes it
    assert (item["short_id"], item["system_name"]) == (f"{import_id[:8]}\u2026", "Mosaic")
    assert f'<time datetime="{item["started_iso"]}" data-app-field="started">' in queued
    assert item["started"] in words

    service.run_imports()
    done = plain(text(client.get("/admin/imports")))
    assert "Done" in done and "2 of 2 rows (100%)" in done
    (item,) = client.get("/admin/imports/progress.json").get_json()["items"]
    assert (item["status"], item["rows_read"], item["incidents_created"]) == ("done", 2, 2)
    assert (item["incidents_unchanged"], item["incidents_conflicting"]) == (0, 0)
    assert "Quartermain" not in str(item)


def test_the_page_shows_only_the_keys_la_and_asks_to_sign_in(service: Service) -> None:
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    post_upload(service, service.key(la="812"), "mosaic.csv", content)
    other = _signed_in(service, "compliance", "813")
    assert "No export has been imported yet." in plain(text(other.get("/admin/imports")))
    assert other.get("/admin/imports/progress.json").get_json() == {"items": []}
    anonymous = service.app.test_client().get("/admin/imports")
    assert anonymous.status_code == 302 and "/admin/sign-in" in anonymous.headers["Location"]
    polled = service.app.test_client().get("/admin/imports/progress.json")
    assert polled.status_code == 302  # the script stops asking
    assert "Imports" in plain(text(_signed_in(service).get("/admin/")))  # in the navigation


def test_an_empty_page_is_ready_for_an_import_started_later(service: Service) -> None:
    """Without JavaScript it says there is nothing; the script has a hidden table to fill."""
    page = text(_signed_in(service).get("/admin/imports"))
    assert "No export has been imported yet." in plain(page)
    assert "<table" in page and "data-app-imports" in page and "imports.mjs" in page
    assert "<template data-app-import-row>" in page


def test_the_pages_polling_does_not_keep_the_session_alive(service: Service) -> None:
    """A page left open asks every 2 s: those requests must not renew the sign-in's cookie, or
    it would never expire; a page the person opens does renew it."""
    client = _signed_in(service)
    polled = client.get("/admin/imports/progress.json")
    assert polled.status_code == 200 and "Set-Cookie" not in polled.headers
    opened = client.get("/admin/imports")
    assert opened.status_code == 200 and "Set-Cookie" in opened.headers
