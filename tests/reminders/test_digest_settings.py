"""digest.yaml: every bad value is refused with a message naming it (issue 18)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter.reminders.mailer import load_digest_settings
from config.settings import SettingsError, load_settings

GOOD: dict[str, Any] = {
    "send_at": "06:45",
    "base_url": "https://csins.example.test/",
    "smtp": {
        "host": "smtp.example.test",
        "port": 465,
        "security": "tls",
        "from": "csins@example.test",
        "password_env": "DIGEST_PASSWORD",
        "username_env": "DIGEST_USER",
    },
    "mailboxes": {812: "lead@example.test", "813": ["a@example.test", "b@example.test"]},
}


def load(tmp_path: Path, raw: Any, **env: str):
    path = tmp_path / "digest.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_digest_settings(load_settings(env={"CSINS_DIGEST_FILE": str(path), **env}))


def test_a_good_file_is_read(tmp_path: Path) -> None:
    settings = load(tmp_path, GOOD, DIGEST_PASSWORD="s3cret", DIGEST_USER="csins")
    assert settings.enabled
    assert settings.send_at == dt.time(6, 45)
    assert settings.base_url == "https://csins.example.test"
    assert dict(settings.mailboxes) == {
        "812": ("lead@example.test",),
        "813": ("a@example.test", "b@example.test"),
    }
    assert (settings.host, settings.port, settings.security) == ("smtp.example.test", 465, "tls")
    assert (settings.username, settings.password) == ("csins", "s3cret")
    assert "s3cret" not in repr(settings)


def test_without_a_file_no_digest_is_sent(tmp_path: Path) -> None:
    settings = load_digest_settings(load_settings(env={"CSINS_CONFIG_DIR": str(tmp_path)}))
    assert not settings.enabled


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"send_at": "7am"}, "send_at"),
        ({"send_at": "24:00"}, "send_at"),
        ({"base_url": "csins.example.test"}, "base_url"),
        ({"send_when_empty": "yes"}, "send_when_empty"),
        ({"mailboxes": {"8120": ["a@example.test"]}}, "mailboxes"),
        ({"mailboxes": {"812": ["not an address"]}}, "mailboxes.812"),
        ({"smtp": {**GOOD["smtp"], "security": "ssl"}}, "smtp.security"),
        ({"smtp": {**GOOD["smtp"], "port": "587"}}, "smtp.port"),
        ({"smtp": {**GOOD["smtp"], "from": "csins"}}, "smtp.from"),
        ({"smtp": {**GOOD["smtp"], "password_env": "UNSET_VARIABLE"}}, "smtp.password_env"),
    ],
)
def test_a_bad_value_is_named(tmp_path: Path, change: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load(tmp_path, {**GOOD, **change}, DIGEST_PASSWORD="s3cret", DIGEST_USER="csins")


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="CSINS_DIGEST_FILE"):
        load_digest_settings(load_settings(env={"CSINS_DIGEST_FILE": str(tmp_path / "none")}))
