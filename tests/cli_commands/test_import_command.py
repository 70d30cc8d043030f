"""``csins-adapter import FILE --la CODE`` (DESIGN.md §7): the import of ``POST /imports``, run
in the command's own process with a progress bar, its deliveries queued for the workers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rq import Queue
from sqlalchemy import select

from adapter.cli import main
from adapter.queue import DELIVERIES
from adapter.store.models import ImportRunRow, IncidentRow
from tests.conftest import SAMPLES


def _run(service: Any, *args: str) -> Any:
    env = {
        "DATABASE_URL": service.database.engine.url.render_as_string(hide_password=False),
        "CSINS_DATA_DIR": str(service.settings.data_dir),  # the same development keys
        "REDIS_URL": service.settings.redis_url,
    }
    return CliRunner().invoke(main, ["import", *args], env=env, catch_exceptions=False)


def test_an_export_is_imported_with_its_deliveries_queued_and_a_second_time_changes_nothing(
    service: Any,
) -> None:
    sample = str(SAMPLES / "mosaic_incidents.csv")
    first = _run(service, sample, "--la", "812")
    assert first.exit_code == 0, first.output
    assert "importing" in first.stderr
    assert "done: 2 rows read; incidents: 2 created; 0 rows rejected" in first.stderr
    assert Queue(DELIVERIES, connection=service.redis).count > 0

    again = _run(service, sample, "--la", "812")
    assert again.exit_code == 0, again.output
    assert "incidents: 2 identical" in again.stderr
    with service.database.session_scope() as session:
        assert len(session.scalars(select(IncidentRow)).all()) == 2
        imports = session.scalars(select(ImportRunRow)).all()
        assert [(i.status, i.created_by_key_id, i.upload) for i in imports] == [
            ("done", None, None),
            ("done", None, None),
        ]


def test_rejected_rows_exit_1_and_an_unreadable_file_exits_2(service: Any, tmp_path: Path) -> None:
    lines = (SAMPLES / "mosaic_incidents.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("05/11/2026,06/11/2026", "31/02/2026,06/11/2026")
    spoiled = tmp_path / "spoiled.csv"
    spoiled.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(service, str(spoiled), "--la", "812")
    assert result.exit_code == 1, result.output
    assert "1 created" in result.stderr and "1 rows rejected" in result.stderr

    notes = tmp_path / "notes.csv"
    notes.write_text("just,some,columns\n1,2,3\n", encoding="utf-8")
    result = _run(service, str(notes), "--la", "812")
    assert result.exit_code == 2
    assert "not a Liquidlogic or Mosaic export" in result.stderr
    with service.database.session_scope() as session:
        assert len(session.scalars(select(ImportRunRow)).all()) == 1


def test_an_import_a_worker_took_first_is_followed_to_its_end(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: under ``run`` a worker could take the import the command had put on
    the queue; the command then exited 1 at once, its bar at 0 and the import "running". It
    now follows the worker's run to the end and reports it."""
    from adapter.service.import_runs import run_import

    worker: list[threading.Thread] = []

    def a_worker_first(database: Any, settings: Any, import_id: str, *more: Any) -> str:
        if not worker:  # the worker's run takes the import before this command's does
            taken = threading.Event()
            worker.append(
                threading.Thread(
                    target=run_import, args=(database, settings, import_id, _set(taken))
                )
            )
            worker[0].start()
            taken.wait(timeout=60)
            return "nothing to do"
        return run_import(database, settings, import_id, *more)

    monkeypatch.setattr("adapter.cli.imports.run_import", a_worker_first)
    result = _run(service, str(SAMPLES / "mosaic_incidents.csv"), "--la", "812")
    worker[0].join()
    assert result.exit_code == 0, result.output
    assert "a worker took this import first: following its progress" in result.stderr
    assert "done: 2 rows read; incidents: 2 created; 0 rows rejected" in result.stderr


def _set(event: threading.Event) -> Any:
    """A progress callback that sets ``event`` once the run has written its first batch."""
    return lambda _record: event.set()
