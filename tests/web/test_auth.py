"""Signing in and out of the admin pages: who may, the session cookie, CSRF, revoked keys."""

from __future__ import annotations

import datetime as dt
import html
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from adapter.app import create_app
from adapter.clock import utcnow
from adapter.store.access_models import ApiKeyRow, AuditEntryRow
from adapter.store.api_keys import revoke_key
from adapter.web.secret import SECRET_FILENAME, load_or_create_secret
from adapter.web.sessions import COOKIE_NAME
from config.settings import SettingsError, load_settings
from tests.web.conftest import World, csrf_token, sign_in

PAGES = [
    "/admin/",
    "/admin/deadlines",
    "/admin/deliveries",
    "/admin/incidents",
    "/admin/receipts",
    "/admin/audit",
]


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_every_page_asks_to_sign_in(world: World, path: str) -> None:
    response = world.service.app.test_client().get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/sign-in?next=")


def test_the_sign_in_form_is_labelled_and_carries_a_csrf_token(world: World) -> None:
    page = world.service.app.test_client().get("/admin/sign-in").get_data(as_text=True)
    assert '<label class="govuk-label govuk-label--s" for="api-key">' in page
    assert 'type="password"' in page and 'autocomplete="off"' in page
    assert 'name="csrf_token"' in page
    assert 'href="#main-content"' in page  # the skip link


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("local_authority", "Only admin and compliance keys can sign in"),
        ("agency", "Only admin and compliance keys can sign in"),
    ],
)
def test_keys_of_other_roles_are_refused_with_a_clear_message(
    world: World, role: str, message: str
) -> None:
    client = world.service.app.test_client()
    response = sign_in(client, world.key(role))
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert message in page and f"This is a '{role}' key" in page
    assert "There is a problem" in page and "<title>Error: Sign in" in page
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("", "Enter your API key"),
        ("csins_000000000000_not-a-real-key-but-long-enough-to-look", "not recognised"),
        ("hello", "not recognised"),
    ],
)
def test_a_missing_or_unknown_key_is_refused(world: World, key: str, message: str) -> None:
    response = sign_in(world.service.app.test_client(), key)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "compliance"])
def test_admin_and_compliance_keys_sign_in_and_it_is_audited(world: World, role: str) -> None:
    client = world.service.app.test_client()
    response = sign_in(client, world.key(role))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    with world.service.database.session_scope() as session:
        lines = session.query(AuditEntryRow).filter(AuditEntryRow.action == "web.signed_in").all()
        assert [(line.actor_role, line.la_code) for line in lines] == [(role, "812")]


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(world: World) -> None:
    client = world.service.app.test_client()
    token = csrf_token(client)
    key = world.key("admin")
    response = client.post(
        "/admin/sign-in?next=/admin/receipts", data={"api_key": key, "csrf_token": token}
    )
    assert response.headers["Location"] == "/admin/receipts"
    for target in ("//evil.example/admin", "https://evil.example/", "/api/v1/incidents"):
        client = world.service.app.test_client()
        response = client.post(
            f"/admin/sign-in?next={target}", data={"api_key": key, "csrf_token": csrf_token(client)}
        )
        assert response.headers["Location"] == "/admin/"


def test_a_form_without_its_csrf_token_is_refused(world: World) -> None:
    client = world.service.app.test_client()
    response = client.post("/admin/sign-in", data={"api_key": world.key("admin")})
    assert response.status_code == 400
    assert "Your form could not be sent" in response.get_data(as_text=True)
    signed_in = world.client("admin")
    assert signed_in.post("/admin/sign-out").status_code == 400
    assert signed_in.post("/admin/sign-out", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in.get("/admin/").status_code == 200


def test_sign_out_ends_the_session(world: World) -> None:
    client = world.client("compliance")
    response = client.post("/admin/sign-out", data={"csrf_token": csrf_token(client, "/admin/")})
    assert response.status_code == 302
    assert "You have signed out" in client.get("/admin/sign-in").get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    with world.service.database.session_scope() as session:
        assert (
            session.query(AuditEntryRow).filter(AuditEntryRow.action == "web.signed_out").count()
            == 1
        )


def test_a_copied_session_cookie_dies_with_the_sign_out(world: World) -> None:
    key = world.key("admin")
    client = world.client("admin")
    copied = client.get_cookie(COOKIE_NAME)
    assert copied is not None
    client.post("/admin/sign-out", data={"csrf_token": csrf_token(client, "/admin/")})

    replay = world.service.app.test_client()
    replay.set_cookie(COOKIE_NAME, copied.value, domain=copied.domain)
    response = replay.get("/admin/deliveries")
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]
    page = replay.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has ended because the key was signed out" in page
    assert replay.get("/admin/").status_code == 302

    for browser in (client, replay):  # the key itself still signs in, in either browser
        assert sign_in(browser, key).status_code == 302
        assert browser.get("/admin/").status_code == 200
    with world.service.database.session_scope() as session:
        assert session.query(ApiKeyRow).filter(ApiKeyRow.role == "admin").one().web_signed_out_at


def test_signing_out_leaves_the_sessions_of_other_keys_alone(world: World) -> None:
    admin, compliance = world.client("admin"), world.client("compliance")
    admin.post("/admin/sign-out", data={"csrf_token": csrf_token(admin, "/admin/")})
    assert compliance.get("/admin/").status_code == 200


def test_a_sign_out_recorded_by_a_clock_ahead_does_not_refuse_the_next_sign_in(
    world: World,
) -> None:
    key = world.key("compliance")
    with world.service.database.session_scope() as session:
        row = session.query(ApiKeyRow).filter(ApiKeyRow.role == "compliance").one()
        row.web_signed_out_at = utcnow() + dt.timedelta(hours=1)
    client = world.service.app.test_client()
    assert sign_in(client, key).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_session_without_its_sign_in_time_is_refused(world: World) -> None:
    """A cookie signed before sign-in times were recorded (its signature is still good)."""
    app = world.service.app
    world.client("admin")  # signs in, so the key exists
    with world.service.database.session_scope() as session:
        row = session.query(ApiKeyRow).filter(ApiKeyRow.role == "admin").one()
        old = {"key_id": row.id, "key_prefix": row.prefix, "_permanent": True}
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, app.session_interface.get_signing_serializer(app).dumps(old))
    assert client.get("/admin/").status_code == 302


def test_revoking_the_key_ends_its_session(world: World) -> None:
    client = world.client("admin")
    assert client.get("/admin/deliveries").status_code == 200
    with world.service.database.session_scope() as session:
        key_id = session.query(ApiKeyRow).filter(ApiKeyRow.role == "admin").one().prefix
        assert revoke_key(session, key_id)
    response = client.get("/admin/deliveries")
    assert response.status_code == 302 and "/admin/sign-in" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has ended because its API key is no longer valid" in page
    assert client.get("/admin/").status_code == 302


def test_a_role_change_takes_effect_on_the_next_page(world: World) -> None:
    client = world.client("compliance")
    with world.service.database.session_scope() as session:
        session.query(ApiKeyRow).filter(
            ApiKeyRow.role == "compliance"
        ).one().role = "local_authority"
    assert client.get("/admin/").status_code == 302


def test_the_cookie_holds_the_key_id_not_the_key(world: World) -> None:
    key = world.key("admin")
    client = world.service.app.test_client()
    response = sign_in(client, key)
    header = response.headers["Set-Cookie"]
    assert header.startswith("csins_admin_session=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Expires=" in header
    assert "Secure" in header  # secure by default (CSINS_COOKIE_SECURE), whatever the host
    cookie = client.get_cookie("csins_admin_session")
    assert cookie is not None
    app = world.service.app
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert set(data) == {"key_id", "key_prefix", "signed_in_at", "_permanent"}
    secret = key.split("_", 2)[2]  # csins_<prefix>_<secret>, and the secret may hold a "_"
    assert key not in cookie.value and secret not in str(data)


@pytest.mark.parametrize(
    "base_url",
    [
        "https://csins.example.gov.uk",
        "http://10.1.2.3:8000",
        "https://127.0.0.1:8443",
        "http://127.0.0.1:8000",  # a proxy that sends Host: 127.0.0.1:8000 (issue 19)
    ],
)
def test_the_cookie_is_secure_by_default_whatever_the_request_looks_like(
    world: World, base_url: str
) -> None:
    client = world.service.app.test_client()
    page = client.get("/admin/sign-in", base_url=base_url).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/admin/sign-in",
        base_url=base_url,
        headers={"Referer": f"{base_url}/admin/sign-in"},
        data={"api_key": world.key("admin"), "csrf_token": token},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Secure" in response.headers["Set-Cookie"]


def test_the_secure_flag_is_a_setting_from_the_environment(world: World) -> None:
    service = world.service
    assert load_settings({}).cookie_secure is True
    settings = load_settings({"CSINS_COOKIE_SECURE": "false"})
    app = create_app(settings=service.settings.with_overrides(cookie_secure=settings.cookie_secure))
    app.extensions["csins"].database = service.database
    response = sign_in(app.test_client(), world.key("admin"))
    assert "Secure" not in response.headers["Set-Cookie"]
    with pytest.raises(SettingsError, match="CSINS_COOKIE_SECURE"):
        load_settings({"CSINS_COOKIE_SECURE": "maybe"})


def _seen(app: Any, headers: dict[str, str]) -> str:
    """The URL the app sees for a request to http://127.0.0.1:8000/_seen with ``headers``."""
    from flask import request

    app.add_url_rule("/_seen", "seen", lambda: request.url)
    response = app.test_client().get("/_seen", base_url="http://127.0.0.1:8000", headers=headers)
    return response.get_data(as_text=True)


def test_forwarded_headers_count_only_from_configured_proxies(world: World) -> None:
    """ProxyFix (CSINS_TRUSTED_PROXIES): with none configured, a client cannot claim https or
    another host; with one, what the proxy reports is the request's scheme and host."""
    service = world.service
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "csins.example.gov.uk"}
    for proxies, seen in (
        (0, "http://127.0.0.1:8000/_seen"),
        (1, "https://csins.example.gov.uk/_seen"),
    ):
        app = create_app(settings=service.settings.with_overrides(trusted_proxies=proxies))
        app.extensions["csins"].database = service.database
        assert _seen(app, forwarded) == seen
    assert load_settings({"CSINS_TRUSTED_PROXIES": "2"}).trusted_proxies == 2


def test_the_api_takes_bearer_keys_without_csrf(world: World) -> None:
    from tests.support.api import new_record

    key = world.key("local_authority")
    response = world.service.post("/api/v1/incidents", key, new_record())
    assert response.status_code == 201, response.get_json()


def test_the_session_secret_is_made_once_per_data_dir_and_kept_private(tmp_path: Path) -> None:
    first = load_or_create_secret(tmp_path / "data")
    assert load_or_create_secret(tmp_path / "data") == first
    assert len(first) >= 64
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / SECRET_FILENAME).st_mode)
    assert mode == 0o600
    assert load_or_create_secret(tmp_path / "other") != first
    assert [p.name for p in (tmp_path / "data").iterdir()] == [SECRET_FILENAME]


def test_the_app_signs_sessions_with_the_data_dir_secret(world: World) -> None:
    secret = (world.service.settings.data_dir / SECRET_FILENAME).read_bytes().strip()
    assert world.service.app.secret_key == secret
