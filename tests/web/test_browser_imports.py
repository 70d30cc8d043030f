"""The imports page in headless Chromium (issue 16): an import started through the API while the
page is open appears on it, and its row turns to done, without the page being loaded again; an
import of another LA never shows. Set up as ``test_browser.py`` (same browser, same checks)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.conftest import SAMPLES
from tests.service.test_imports import post_upload
from tests.web.conftest import World
from tests.web.test_browser import check, live, page, pytestmark, sign_in

__all__ = ["live", "page", "pytestmark"]  # the served app, the browser page, the tests' marks

WAIT = 30_000
"""How long, in milliseconds, to wait for the page to catch up (it asks every 2 s)."""

MARK = "window.appSamePage"
"""Set on the page once: still there later only if the page was never loaded again."""


def start_import(world: World, la: str) -> str:
    """Upload the sample Mosaic export as LA ``la`` through the API; the queued import's id."""
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    accepted = post_upload(world.service, world.key("local_authority", la), "export.csv", content)
    assert accepted.status_code == 202, accepted.get_json()
    return str(accepted.get_json()["id"])


def row(page: Any, import_id: str) -> Any:
    return page.locator(f'tr[data-app-import="{import_id}"]')


def count(page: Any, import_id: str, name: str) -> Any:
    return row(page, import_id).locator(f'[data-app-field="{name}"]')


def test_an_import_started_while_the_page_is_open_appears_and_finishes(
    world: World, page: Any
) -> None:
    sign_in(page, world.key("admin", "812"))
    page.get_by_role("link", name="Imports", exact=True).click()
    expect(page.get_by_text("No export has been imported yet.")).to_be_visible()
    expect(page.get_by_role("table")).to_be_hidden()
    check(page, "23-imports-none")
    page.evaluate(f"{MARK} = true")

    start_import(world, "813")  # another LA's: never on this page
    first = start_import(world, "812")
    expect(row(page, first)).to_contain_text("Queued", timeout=WAIT)
    expect(row(page, first)).to_contain_text("0 of 2 rows (0%)")
    expect(page.get_by_text("No export has been imported yet.")).to_be_hidden()
    world.service.run_imports()
    expect(row(page, first)).to_contain_text("Done", timeout=WAIT)
    expect(row(page, first)).to_contain_text("2 of 2 rows (100%)")
    expect(row(page, first).locator("progress")).to_have_js_property("value", 100)
    expect(count(page, first, "incidents_created")).to_have_text("2")

    row(page, first).evaluate("tr => { tr.appKept = true; }")
    second = start_import(world, "812")  # the same export again: nothing new in it
    expect(row(page, second)).to_contain_text("Queued", timeout=WAIT)
    world.service.run_imports()
    expect(row(page, second)).to_contain_text("Done", timeout=WAIT)
    expect(count(page, second, "incidents_unchanged")).to_have_text("2")
    news = page.locator("[data-app-imports-news]")  # said to a screen reader's user, politely
    expect(news).to_have_text(f"Import {second[:8]}\u2026: Done.")

    assert page.locator("tbody tr").count() == 2  # LA 813's import is not listed
    assert row(page, first).evaluate("tr => tr.appKept") is True  # updated in place
    assert page.evaluate(MARK) is True  # never loaded again
    check(page, "24-imports-live")
