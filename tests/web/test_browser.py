"""End to end in headless Chromium: sign in, read every page, retry, download, sign out.

Each page is checked with axe-core (no violation at all, whatever its impact: issue 18's "axe
clean") and saved as a screenshot under tests/screenshots/ for a person to look at. The app runs
for real on a free loopback port; the browser is Debian's Chromium driven by Playwright (no
browser download).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from adapter.receipts import SignedReceipt, load_keyring, verify_receipt
from adapter.store.access_models import AuditEntryRow
from adapter.store.models import DeliveryRow
from tests.web.conftest import World

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
GOVUK = REPO / "node_modules" / "govuk-frontend" / "dist" / "govuk" / "govuk-frontend.min.css"
SCREENSHOTS = REPO / "tests" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_missing = [str(path) for path in (CHROMIUM, AXE, GOVUK) if not path.exists()]
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(_missing),
        reason=f"browser tests need {', '.join(_missing)} (apt-get install -y chromium; npm ci)",
    ),
]


@pytest.fixture
def live(world: World) -> Iterator[str]:
    """The app serving on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, world.service.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def page(live: str) -> Iterator[Any]:
    """A fresh browser page, with console errors collected on ``page.errors``."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # bypass_csp lets axe be injected; the pages' own scripts run under their CSP as usual
        # (a CSP violation is still reported on the console, and fails the test below).
        context = browser.new_context(
            base_url=live,
            accept_downloads=True,
            bypass_csp=True,
            viewport={"width": 1280, "height": 900},
        )
        opened = context.new_page()
        opened.errors = []
        opened.on("pageerror", lambda error: opened.errors.append(str(error)))
        opened.on(
            "console",
            lambda message: opened.errors.append(message.text) if message.type == "error" else None,
        )
        yield opened
        context.close()
        browser.close()


def check(page: Any, name: str, *, refused: bool = False) -> None:
    """No console error, no axe violation of any impact (minor ones included); save a screenshot.

    ``refused``: the page answered a 4xx on purpose (a form with errors), which the console
    reports as a failed load; any other error still fails the check.
    """
    page.wait_for_load_state("networkidle")
    errors = [
        error
        for error in page.errors
        if not (refused and error.startswith("Failed to load resource"))
    ]
    page.errors.clear()
    assert errors == [], errors
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run()")
    # Every rule axe runs by default, best practices included; none is excluded.
    bad = [
        (violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
        for violation in results["violations"]
    ]
    assert bad == [], f"{name}: {bad}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, key: str) -> None:
    page.goto("/admin/")
    assert page.url.endswith("/admin/sign-in?next=/admin/?")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def download_receipt(page: Any, tmp_path: Path) -> Path:
    """Download the first receipt listed on the page as JSON; where it was saved."""
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download JSON").first.click()
    saved: Path = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    return saved


def retry_the_failed_delivery(world: World, page: Any) -> None:
    """From the deliveries page, retry the first of LA 812's failed deliveries (Ofsted refuses
    them): Ofsted's is queued again and the retry is in the audit log."""
    page.get_by_role("link", name="Deliveries", exact=True).click()
    expect(page.get_by_role("heading", name="Failed deliveries")).to_be_visible()
    check(page, "07-failed-deliveries")
    page.get_by_role("button", name="Retry").first.click()
    expect(page.get_by_text("is queued to be sent again")).to_be_visible()
    check(page, "08-retried")
    with world.service.database.session_scope() as session:
        statuses = {
            d.addressee: d.status
            for d in session.query(DeliveryRow).filter(DeliveryRow.la_code == "812")
        }
        retried = (
            session.query(AuditEntryRow).filter(AuditEntryRow.action == "delivery.retried").all()
        )
    assert statuses["ofsted"] == "queued" and len(retried) == 1


def download_and_verify_a_receipt(world: World, page: Any, tmp_path: Path) -> None:
    """The receipts page marks its receipts Verified; the first, downloaded as JSON, verifies
    with the service's public keys."""
    page.get_by_role("link", name="Receipts", exact=True).click()
    expect(page.get_by_text("Verified").first).to_be_visible()
    check(page, "09-receipts")
    saved = download_receipt(page, tmp_path)
    document = json.loads(saved.read_text(encoding="utf-8"))
    settings = world.service.settings
    keys = load_keyring(settings.data_dir).public_keys
    verified = verify_receipt(SignedReceipt(document["receipt"], document["jws"]), keys)
    assert verified.content["local_authority_code"] == "812"


def test_admin_reads_every_page_retries_and_downloads(
    world: World, page: Any, tmp_path: Path
) -> None:
    page.goto("/admin/sign-in")
    check(page, "01-sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Enter your API key")).to_be_visible()
    check(page, "02-sign-in-error", refused=True)

    sign_in(page, world.key("admin", "812"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    check(page, "03-dashboard")

    page.get_by_role("link", name="Deadlines", exact=True).click()
    page.get_by_label("Show").select_option("all")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("5 working days after").first).to_be_visible()
    check(page, "04-deadlines")

    page.get_by_role("link", name="Incidents", exact=True).click()
    check(page, "05-incidents")
    reference = world.incidents["812"][0].reference
    assert world.incidents["813"][0].reference not in page.content()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    check(page, "06-incident-timeline")

    retry_the_failed_delivery(world, page)
    download_and_verify_a_receipt(world, page, tmp_path)

    page.get_by_role("link", name="View and print").first.click()
    expect(page.get_by_role("button", name="Print this receipt")).to_be_visible()
    check(page, "10-receipt-printable")
    page.emulate_media(media="print")
    page.screenshot(path=str(SCREENSHOTS / "11-receipt-print-media.png"), full_page=True)
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Audit log", exact=True).click()
    expect(page.get_by_text("delivery.retried").first).to_be_visible()
    expect(page.get_by_text("receipt.downloaded").first).to_be_visible()
    check(page, "12-audit-log")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/admin/receipts")
    assert "/admin/sign-in" in page.url


def test_compliance_officer_reads_but_cannot_retry(world: World, page: Any) -> None:
    sign_in(page, world.key("compliance", "813"))
    page.goto("/admin/deliveries")
    expect(page.get_by_role("heading", name="Failed deliveries")).to_be_visible()
    assert page.get_by_role("button", name="Retry").count() == 0
    assert world.incidents["813"][0].reference in page.content()
    assert world.incidents["812"][0].reference not in page.content()
    check(page, "13-compliance-deliveries")


def verify_with_cli(receipt: Path, jwks: Path) -> subprocess.CompletedProcess[str]:
    """``csins-adapter receipts verify RECEIPT --jwks JWKS``, as a compliance officer runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "adapter.cli",
            "receipts",
            "verify",
            str(receipt),
            "--jwks",
            str(jwks),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def import_the_sample_export(world: World) -> None:
    """LA 812 uploads the sample Mosaic export through the API; the worker imports it and its
    deliveries reach the Panel and the Secretary of State (Ofsted still refuses every one)."""
    service = world.service
    content = (REPO / "tests" / "samples" / "mosaic_incidents.csv").read_bytes()
    uploaded = service.client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), "mosaic_incidents.csv")},
        headers=service.headers(world.key("local_authority", "812")),
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 202, uploaded.get_json()
    service.work()  # the import, then its deliveries (Ofsted still refuses every delivery)
    reached = service.sandbox.state.stats()["addressees"]
    assert reached["panel"]["count"] >= 1 and reached["secretary_of_state"]["count"] >= 1


def test_a_sample_export_reaches_the_addressees_and_a_retried_receipt_verifies(
    world: World, page: Any, tmp_path: Path
) -> None:
    """Issue 7's whole flow: an export through the API, deliveries reaching the sandbox, a
    failed one retried from the page once the addressee recovers, its receipt downloaded from
    the page and verified offline with ``csins-adapter receipts verify``."""
    service = world.service
    import_the_sample_export(world)

    sign_in(page, world.key("admin", "812"))
    page.get_by_role("link", name="Incidents", exact=True).click()
    page.get_by_role("link", name="MOS-INC-0102").click()
    # The visible status, not the timeline's SVG <title> tooltips that also say "Failed".
    expect(page.locator("text=Failed >> visible=true").first).to_be_visible()
    check(page, "14-imported-care-leaver-death")

    service.sandbox.state.clear_faults()  # the addressee recovers
    page.get_by_role("link", name="Deliveries", exact=True).click()
    page.get_by_role("button", name="Retry").first.click()
    expect(page.get_by_text("is queued to be sent again")).to_be_visible()
    with service.database.session_scope() as session:
        retried = (
            session.query(AuditEntryRow)
            .filter(AuditEntryRow.action == "delivery.retried")
            .order_by(AuditEntryRow.id.desc())
            .first()
        )
        assert retried is not None
        delivery_id = retried.object_id
    service.work()
    with service.database.session_scope() as session:
        delivery = session.get(DeliveryRow, delivery_id)
        assert delivery is not None and delivery.status == "acknowledged"
    assert delivery_id in service.sandbox.state.stats()["addressees"]["ofsted"]["ids"]

    page.get_by_role("link", name="Receipts", exact=True).click()
    check(page, "15-receipts-after-retry")
    receipt = download_receipt(page, tmp_path)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(service.client.get("/.well-known/jwks.json").data)
    verified = verify_with_cli(receipt, jwks)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("valid:")

    document = json.loads(receipt.read_text(encoding="utf-8"))
    document["receipt"]["addressee"] = "dfe"
    receipt.write_text(json.dumps(document), encoding="utf-8")
    altered = verify_with_cli(receipt, jwks)
    assert altered.returncode != 0
    assert "addressee" in (altered.stdout + altered.stderr)


def test_an_incidents_course_is_drawn_read_and_printed(world: World, page: Any) -> None:
    """Issue 18: the SVG timeline with its key and table passes axe, and prints as the record."""
    sign_in(page, world.key("compliance", "812"))
    incident = world.incidents["812"][0]
    page.goto(f"/admin/incidents/{incident.id}")
    chart = page.get_by_role("img", name=f"Timeline of incident {incident.reference}")
    expect(chart).to_be_visible()
    table = page.get_by_role("table", name="The incident\u2019s course, day by day")
    expect(table).to_be_visible()
    marks = page.locator("svg.app-course__chart g.app-course__mark")
    assert marks.count() == table.locator("tbody tr").count() > 0
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600
    check(page, "16-incident-course")

    page.emulate_media(media="print")
    expect(page.get_by_text("Compliance record of incident")).to_be_visible()
    expect(page.locator(".govuk-service-navigation")).to_be_hidden()
    expect(chart).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "17-incident-course-print.png"), full_page=True)
    page.emulate_media(media="screen")


def test_an_admin_makes_a_calendar_feed(world: World, page: Any) -> None:
    sign_in(page, world.key("admin", "812"))
    page.goto("/admin/deadlines")
    page.get_by_role("link", name="See open deadlines in your own calendar").click()
    check(page, "18-calendar-feeds")
    page.get_by_label("Whose calendar is it for?").fill("Safeguarding lead")
    page.get_by_role("button", name="Create feed").click()
    expect(page.get_by_text("/api/v1/deadlines.ics?token=csinsfeed_")).to_be_visible()
    check(page, "19-calendar-feed-created")
