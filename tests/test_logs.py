"""The processes' log lines (adapter/logs.py): an alert says what it is about (§6 "a log
event"), and the HTTP clients never log the URLs they call."""

from __future__ import annotations

import logging

import pytest

from adapter import logs
from config.settings import SettingsError, load_settings


def _line(message: str, **extra: object) -> str:
    record = logging.LogRecord(
        "adapter.service.alerts", logging.WARNING, __file__, 1, message, (), None
    )
    record.__dict__.update(extra)
    return logs.LineFormatter().format(record)


def test_an_alert_line_carries_its_facts_as_key_value_pairs() -> None:
    line = _line(
        "alert delivery_failed",
        alert={"kind": "delivery_failed", "la_code": "812", "addressee": "panel", "attempts": 3},
    )
    assert line.endswith(
        "WARNING adapter.service.alerts alert delivery_failed"
        " kind=delivery_failed la_code=812 addressee=panel attempts=3"
    )
    assert line[:20].endswith("Z")  # UTC, whatever the machine's zone


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("HTTP 503 Service Unavailable", '"HTTP 503 Service Unavailable"'),
        ("a=b", '"a=b"'),
        ("", '""'),
        (None, "null"),
        ("2026-11-30", "2026-11-30"),
    ],
)
def test_a_value_with_spaces_or_quotes_stays_one_token(value: object, written: str) -> None:
    assert _line("alert x", alert={"last_error": value}).endswith(f" last_error={written}")


def test_configure_holds_the_http_clients_at_warning_even_at_debug() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        logs.configure("DEBUG")
        logs.configure("DEBUG")  # again: still one handler of ours
        ours = [h for h in root.handlers if isinstance(h.formatter, logs.LineFormatter)]
        assert len(ours) == 1
        assert root.level == logging.DEBUG
        assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
        assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.parametrize(
    ("given", "level"), [("", "INFO"), ("debug", "DEBUG"), (" ERROR ", "ERROR")]
)
def test_the_log_level_comes_from_the_environment(given: str, level: str) -> None:
    assert load_settings(env={"CSINS_LOG_LEVEL": given}).log_level == level


def test_an_unknown_log_level_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="CSINS_LOG_LEVEL: expected one of DEBUG, INFO"):
        load_settings(env={"CSINS_LOG_LEVEL": "LOUD"})


def test_a_failing_delivery_job_logs_its_error_class_and_never_its_message(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """RQ reports a failed job only through Redis; one failing while Redis was away went
    unlogged (CI could not tell why a recording failed). The job says so itself, by the error's
    class: its message may quote a record."""
    from jobs import deliver

    def fails(_delivery_id: str) -> str:
        raise ValueError("Ada Lovelace, born 2015-01-01")

    monkeypatch.setattr(deliver, "_deliver", fails)
    with caplog.at_level("ERROR"), pytest.raises(ValueError):
        deliver.deliver("d-1")
    (line,) = [record.getMessage() for record in caplog.records]
    assert line == "delivery d-1: the job failed (ValueError); the sweeper will send it again"
