"""Hand-edited addresses get a page that says what is wrong, never a 500 and an ERROR log.

A NUL in the address (refused app-wide, for the API too), a page size that is not ASCII digits,
the last day a date can name as a "to" filter, query names ``url_for`` keeps for itself, and
addresses under /admin/ that no page's route answers (a page still, not the API's problem).
"""

from __future__ import annotations

import html
import logging
import re

import pytest

from tests.web.conftest import World

LIST_PAGES = [
    "/admin/deliveries?status=all&",
    "/admin/deadlines?show=all&",
    "/admin/incidents?",
    "/admin/receipts?",
    "/admin/audit?",
]
"""Every paginated page, ready for more query parameters; each shows everything it can."""

SIGNED_IN_BAD = [
    "/admin/?x=%00",
    "/admin/incidents/%00",
    "/admin/receipts/x%00y",
    "/admin/receipts/x%00y/download",
    "/admin/incidents?reference=%00",
    "/admin/deliveries?incident=%00",
    "/admin/incidents?cursor=%00",
    *(f"{page}limit=%C2%B2" for page in LIST_PAGES),  # ², which str.isdigit() takes
    *(f"{page}limit=%D9%A3" for page in LIST_PAGES),  # Arabic-Indic three
    *(f"{page}limit=-1" for page in LIST_PAGES),
]


def assert_error_page(response, status: int, caplog: pytest.LogCaptureFixture) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert "There is a problem with that request" in response.get_data(as_text=True)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "path", ["/admin/sign-in?next=%00", "/admin/?x=%00", "/admin/incidents/%00"]
)
def test_a_nul_in_the_address_is_a_400_page_before_sign_in(
    world: World, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    response = world.service.app.test_client().get(path)
    assert_error_page(response, 400, caplog)


@pytest.mark.parametrize("path", SIGNED_IN_BAD)
def test_a_bad_address_is_a_400_page_when_signed_in(
    world: World, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = world.client("admin", "*")
    caplog.set_level(logging.ERROR)
    assert_error_page(client.get(path), 400, caplog)


@pytest.mark.parametrize("page", LIST_PAGES)
def test_a_page_size_too_long_to_be_one_reads_as_the_largest(
    world: World, page: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = world.client("admin", "*")
    caplog.set_level(logging.ERROR)
    response = client.get(f"{page}limit={'9' * 5000}")
    assert response.status_code == 200
    assert "Next page" not in response.get_data(as_text=True)  # everything fits on one page
    assert not caplog.records


def test_leading_zeros_do_not_make_a_page_size_long(world: World) -> None:
    response = world.client("admin", "*").get(f"/admin/deliveries?status=all&limit={'0' * 5000}1")
    assert response.status_code == 200
    rows = response.get_data(as_text=True).count('<tr class="govuk-table__row">')
    assert rows == 2  # the header and one delivery


@pytest.mark.parametrize("page", ["/admin/receipts", "/admin/audit"])
def test_the_last_day_a_date_can_name_is_a_to_date_like_any_other(
    world: World, page: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = world.client("admin", "*")
    caplog.set_level(logging.ERROR)
    everything = client.get(page).get_data(as_text=True)
    response = client.get(f"{page}?from=0001-01-01&to=9999-12-31")
    assert response.status_code == 200
    rows = '<tr class="govuk-table__row">'
    assert response.get_data(as_text=True).count(rows) == everything.count(rows) > 1
    assert client.get(f"{page}?from=9999-12-31").status_code == 200
    assert not caplog.records


@pytest.mark.parametrize("page", LIST_PAGES)
@pytest.mark.parametrize(
    "reserved",
    [
        "endpoint=x",
        "_method=POST",
        "values=x",
        "_external=1&_scheme=javascript&_anchor=%0Aalert(document.domain)",
    ],
)
def test_page_links_keep_only_the_filters_the_page_knows(
    world: World, page: str, reserved: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = world.client("admin", "*")
    caplog.set_level(logging.ERROR)
    response = client.get(f"{page}limit=1&cursor=&unknown=1&{reserved}")  # "continued"
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    links = [
        html.unescape(link)
        for link in re.findall(r'href="([^"]*)"', response.get_data(as_text=True))
        if "limit=" in link
    ]
    assert sorted("cursor=" in link for link in links) == [False, True]  # first and next page
    path = page.rstrip("?&").split("?")[0]
    for link in links:
        assert link.startswith(f"{path}?") and "#" not in link
        assert "limit=1" in link
        for name in ("endpoint", "_method", "values", "_external", "_scheme", "unknown"):
            assert f"{name}=" not in link
    assert not caplog.records


UNROUTED = [
    ("GET", "/admin/%00", 400),
    ("GET", "/admin/x%00y", 400),
    ("GET", "/admin/incidents%00", 400),
    ("GET", "/admin/no-such-page", 404),
    ("GET", "/admin/incidents/x/y", 404),
    ("DELETE", "/admin/", 405),
    ("PUT", "/admin/sign-in", 405),
    ("GET", "/admin/sign-out", 405),
    ("POST", "/admin/deliveries", 405),
    ("POST", "/admin/static/admin.css", 405),
]
"""Addresses under /admin/ that no page's route answers (an app-wide check refuses the NUL
before routing), so only the app's error handlers see them."""


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize(("method", "path", "status"), UNROUTED)
def test_an_admin_address_no_route_answers_is_an_error_page(
    world: World,
    method: str,
    path: str,
    status: int,
    signed_in: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = world.client("admin", "*") if signed_in else world.service.app.test_client()
    caplog.set_level(logging.ERROR)
    response = client.open(path, method=method)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Page not found" in page if status == 404 else "There is a problem" in page
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    nonce = response.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    if status == 405:  # RFC 9110: a 405 says which methods the address takes
        allowed = response.headers["Allow"].split(", ")
        assert method not in allowed and "OPTIONS" in allowed


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/%00", 400),
        ("GET", "/api/v1/no-such-endpoint", 404),
        ("DELETE", "/api/v1/deliveries", 405),
        ("GET", "/administration", 404),
    ],
)
def test_other_addresses_still_answer_problem_details(
    world: World, method: str, path: str, status: int
) -> None:
    response = world.service.app.test_client().open(path, method=method)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == status
    if status == 405:
        assert "GET" in response.headers["Allow"].split(", ")
