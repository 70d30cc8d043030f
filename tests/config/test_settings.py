"""Settings: defaults, YAML overlay, environment, and clear errors naming the bad setting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from config.settings import Settings, SettingsError, load_settings


def test_defaults_come_from_the_shipped_yaml():
    settings = load_settings(env={})
    assert settings.policy.due_soon_working_days == 2
    assert settings.policy.retry_schedule_seconds == (60, 300, 1800, 7200, 18000, 36000)
    assert set(settings.addressees) == {"panel", "secretary_of_state", "ofsted", "dfe"}
    assert settings.data_dir == Path("var")
    assert settings.database_url is None


def test_environment_overrides(tmp_path):
    settings = load_settings(
        env={
            "CSINS_DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgresql://x/y",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CSINS_MAX_EXPORT_ROWS": "10",
            "CSINS_EXTRA_CLOSURE_DATES": "2026-12-29, 2026-12-30",
        }
    )
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql://x/y"
    assert settings.max_export_rows == 10
    assert settings.policy.extra_closure_dates == (dt.date(2026, 12, 29), dt.date(2026, 12, 30))


def test_an_la_config_dir_overlays_policy_and_replaces_addressees(tmp_path):
    (tmp_path / "policy.yaml").write_text("due_soon_working_days: 3\n")
    (tmp_path / "addressees.yaml").write_text("panel:\n  channel: https\n")
    settings = load_settings(env={"CSINS_CONFIG_DIR": str(tmp_path)})
    assert settings.policy.due_soon_working_days == 3
    assert settings.policy.review_decision_working_days == 5
    assert settings.addressees == {"panel": {"channel": "https"}}


@pytest.mark.parametrize(
    ("policy_yaml", "named"),
    [
        ("due_soon_working_days: soon\n", "due_soon_working_days"),
        ("due_soon_working_days: -1\n", "due_soon_working_days"),
        ("retry_schedule_seconds: []\n", "retry_schedule_seconds"),
        ("extra_closure_dates: [29/12/2026]\n", "extra_closure_dates"),
        ("quick_tries: 0\n", "quick_tries"),
        ("review_decision_working_days: 0\n", "review_decision_working_days"),
        ("death_notification_working_days: -5\n", "death_notification_working_days"),
        ("typo_setting: 1\n", "typo_setting"),
        ("calendar_first_year: 2040\n", "calendar_first_year"),
        ("[unclosed\n", "not valid YAML"),
    ],
)
def test_bad_policy_names_the_setting(tmp_path, policy_yaml, named):
    (tmp_path / "policy.yaml").write_text(policy_yaml)
    with pytest.raises(SettingsError, match=named):
        load_settings(env={"CSINS_CONFIG_DIR": str(tmp_path)})


def test_bad_env_value_names_the_variable():
    with pytest.raises(SettingsError, match="CSINS_MAX_EXPORT_BYTES"):
        load_settings(env={"CSINS_MAX_EXPORT_BYTES": "lots"})


def test_missing_config_dir_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="CSINS_CONFIG_DIR"):
        load_settings(env={"CSINS_CONFIG_DIR": str(tmp_path / "nowhere")})


def test_profile_path_prefers_the_las_own(tmp_path):
    shipped = Settings().profile_path("mosaic")
    assert shipped.name == "mosaic.yaml"
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mosaic.yaml").write_text("{}")
    own = load_settings(env={"CSINS_CONFIG_DIR": str(tmp_path)}).profile_path("mosaic")
    assert own == tmp_path / "profiles" / "mosaic.yaml"


def test_web_secret_must_be_long_enough():
    assert load_settings(env={"CSINS_WEB_SECRET": "s" * 32}).web_secret == "s" * 32
    with pytest.raises(SettingsError, match="CSINS_WEB_SECRET"):
        load_settings(env={"CSINS_WEB_SECRET": "short"})
