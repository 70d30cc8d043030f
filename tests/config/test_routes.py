"""Routes (DESIGN.md §6): the channel per (document, addressee), checked at start and by
``csins-adapter config check``; anything unknown refused with a message naming it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from adapter.cli import main
from adapter.delivery.errors import RouteConfigError
from adapter.delivery.routes import CSINS_DOCUMENTS, Routes
from config.settings import DEFAULT_CONFIG_DIR, load_settings
from schemas import codes

EXAMPLES = DEFAULT_CONFIG_DIR / "examples"
PRODUCTION = EXAMPLES / "production.yaml"


def shipped() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (DEFAULT_CONFIG_DIR / "addressees.yaml").read_text(encoding="utf-8")
    )
    return loaded


def production() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(PRODUCTION.read_text(encoding="utf-8"))
    return loaded


def check(tmp_path: Path, addressees: Any, **env: str) -> tuple[int, str, str]:
    """``csins-adapter config check`` with ``addressees`` as the addressees.yaml."""
    path = tmp_path / "addressees.yaml"
    path.write_text(yaml.safe_dump(addressees), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["config", "check"], env={"CSINS_ADDRESSEES_FILE": str(path), **env}
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_shipped_configuration_routes_everything_to_the_sandbox():
    routes = Routes(load_settings(env={}).addressees, {})
    assert {route.channel for route in routes.table()} == {"sandbox"}
    assert routes.notes == []


def test_the_production_example_passes_config_check(tmp_path):
    code, out, err = check(tmp_path, production())
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "ok"
    routes = Routes(production(), {})
    for route in routes.table():
        expected = "csins" if route.document in CSINS_DOCUMENTS - {"amendment"} else "smtp"
        assert route.channel == expected, route
    assert "panel: csins: incident_notification, looked_after_child_death_notification" in out


def test_the_production_example_file_itself_is_what_check_reads():
    result = CliRunner().invoke(
        main, ["config", "check"], env={"CSINS_ADDRESSEES_FILE": str(PRODUCTION)}
    )
    assert result.exit_code == 0, result.output
    assert "ofsted: smtp: rapid_review" in result.stdout


def test_the_assisted_example_routes_notifications_to_csins_and_the_rest_to_the_sandbox():
    routes = Routes(
        load_settings(env={"CSINS_ADDRESSEES_FILE": str(EXAMPLES / "assisted.yaml")}).addressees, {}
    )
    assert routes.channel_of("incident_notification", "panel") == "csins"
    assert routes.channel_of("rapid_review", "panel") == "sandbox"
    assert routes.channel_settings("dfe", "sandbox")["signing"] == "v1"


def _with(config: dict[str, Any], addressee: str, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(config)
    changed[addressee].update(changes)
    return changed


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: {**c, "home_office": c["panel"]}, "home_office: unknown addressee"),
        (lambda c: {k: v for k, v in c.items() if k != "dfe"}, "dfe: missing"),
        (lambda c: _with(c, "panel", channel="fax"), "panel: channel: expected csins, smtp"),
        (
            lambda c: _with(c, "ofsted", routes={"rapid_reveiw": "smtp"}),
            "ofsted: routes: unknown document 'rapid_reveiw'",
        ),
        (
            lambda c: _with(c, "ofsted", routes={"rapid_review": "pigeon"}),
            "ofsted: routes: rapid_review: unknown channel 'pigeon'",
        ),
        (
            lambda c: _with(c, "dfe", routes={"rapid_review": "csins"}),
            "dfe: routes: rapid_review: csins carries notifications and amendments only",
        ),
        (
            lambda c: _with(c, "panel", smtp={**c["panel"]["smtp"], "hostname": "x"}),
            "panel: smtp: unknown setting(s) for a smtp channel: hostname",
        ),
        (lambda c: _with(c, "panel", timeout=3), "panel: unknown setting(s) for a smtp channel"),
        (
            lambda c: _with(c, "panel", smtp={**c["panel"]["smtp"], "tls": "ssl"}),
            "panel: smtp: tls: expected starttls, tls or none",
        ),
        (lambda c: _with(c, "panel", channel="csins"), "panel: channel: csins carries"),
    ],
    ids=[
        "addressee",
        "missing",
        "channel",
        "document",
        "route-channel",
        "csins-document",
        "section-key",
        "flat-key",
        "value",
        "csins-default",
    ],
)
def test_a_bad_route_is_refused_naming_it(tmp_path, change, message):
    config = change(production())
    with pytest.raises(RouteConfigError, match=None) as caught:
        Routes(config, {})
    assert message in str(caught.value)
    code, out, err = check(tmp_path, config)
    assert code == 1
    assert message in err
    assert out == ""


def test_an_unset_credential_is_a_note_not_a_refusal(tmp_path):
    config = _with(production(), "panel")
    config["panel"]["smtp"]["username_env"] = "CSINS_SMTP_USERNAME"
    code, out, err = check(tmp_path, config, CSINS_SMTP_USERNAME="relay-user")
    assert code == 0 and out.endswith("ok\n")
    assert "note: addressees.yaml: panel: password_env: environment variable" in err


def test_every_document_and_addressee_has_a_route():
    routes = Routes(production())
    assert {(r.document, r.addressee) for r in routes.table()} == {
        (d, a) for d in codes.DOCUMENTS for a in codes.ADDRESSEES
    }


def test_a_process_does_not_start_with_a_bad_file(tmp_path):
    from adapter.app import create_app

    path = tmp_path / "addressees.yaml"
    path.write_text(yaml.safe_dump(_with(shipped(), "panel", channel="fax")), encoding="utf-8")
    settings = load_settings(
        env={"CSINS_ADDRESSEES_FILE": str(path), "CSINS_DATA_DIR": str(tmp_path)}
    )
    with pytest.raises(RouteConfigError, match="panel: channel"):
        create_app(settings=settings)
    from jobs.context import build_context

    with pytest.raises(RouteConfigError, match="panel: channel"):
        build_context(settings)


def test_the_addressees_file_must_exist(tmp_path):
    from config.settings import SettingsError

    with pytest.raises(SettingsError, match="CSINS_ADDRESSEES_FILE"):
        load_settings(env={"CSINS_ADDRESSEES_FILE": str(tmp_path / "none.yaml")})
