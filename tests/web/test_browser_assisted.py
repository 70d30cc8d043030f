"""The assisted flow in headless Chromium (DESIGN.md §6): a notification routed to ``csins`` is
submitted, shows under "Submissions to make", is laid out for the online service, its
confirmation is recorded through the form, and a receipt downloaded from the pages verifies with
``csins-adapter receipts verify``. Set up as ``test_browser.py`` (same browser, same checks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.support.api import new_record, submit
from tests.support.service import Service
from tests.web.test_browser import check, page, pytestmark, sign_in, verify_with_cli

__all__ = ["page", "pytestmark"]  # the browser page fixture, and the browser tests' marks


@pytest.fixture
def live(assisted: Service) -> Iterator[str]:
    """The app with notifications routed to ``csins``, serving on a free loopback port."""
    server = make_server("127.0.0.1", 0, assisted.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_a_notification_from_submission_to_a_recorded_confirmation_and_its_receipt(
    assisted: Service, page: Any, tmp_path: Path
) -> None:
    incident = submit(assisted, assisted.key("local_authority"), new_record())
    assisted.work()  # the worker hands each notification to a person: nothing is sent

    sign_in(page, assisted.key("admin"))
    page.get_by_role("link", name="Submissions to make", exact=True).click()
    expect(page.get_by_role("heading", name="Submissions to make", level=1)).to_be_visible()
    check(page, "20-submissions-to-make")

    page.get_by_role("link", name=incident["reference"]).first.click()
    expect(page.get_by_role("heading", name="The incident", level=2)).to_be_visible()
    expect(page.get_by_role("heading", name="Child 1", level=2)).to_be_visible()
    expect(page.get_by_role("button", name="Copy Reference").first).to_be_visible()
    check(page, "21-submission-to-make")

    page.get_by_label("Confirmation reference").fill("CSINS-2026-004211")
    page.get_by_label("Submitted by").fill("Sam Patel")
    page.get_by_role("button", name="Record the submission").click()
    expect(page.get_by_text("Submission CSINS-2026-004211 recorded")).to_be_visible()
    check(page, "22-submission-recorded")

    page.get_by_role("link", name="Receipts", exact=True).click()
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download JSON").first.click()
    receipt = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(receipt)
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(assisted.client.get("/.well-known/jwks.json").data)
    verified = verify_with_cli(receipt, jwks)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("valid:")
    content = json.loads(receipt.read_text(encoding="utf-8"))["receipt"]
    assert (content["channel"], content["acknowledged_by"]) == ("csins", "person")
    assert content["confirmed_by"] == "Sam Patel"
    assert content["addressee_reference"] == "CSINS-2026-004211"
