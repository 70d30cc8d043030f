"""``csins-adapter convert`` (DESIGN.md §7): records, row errors, exit 0, 1 or 2, no traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from adapter.cli import convert as convert_command
from adapter.cli import main
from schemas.incident import IncidentRecordSchema
from tests.conftest import SAMPLES
from tests.importers.conftest import (
    TODAY,
    make_row,
    sample_rows,
    with_shared_strings,
    write_csv,
    write_xlsx,
    zip_bomb,
)

LIQUIDLOGIC = SAMPLES / "liquidlogic_incidents.csv"
MOSAIC = SAMPLES / "mosaic_incidents.csv"


def run(*args: Any, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main, ["convert", *map(str, args), "--today", TODAY.isoformat()], env=env or {}
    )


def loads(lines: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in lines.splitlines()]
    for record in records:
        IncidentRecordSchema(today=TODAY).load(record)
    return records


@pytest.mark.parametrize(("sample", "count"), [(LIQUIDLOGIC, 3), (MOSAIC, 2)])
def test_the_samples_convert_with_exit_0(sample: Path, count: int) -> None:
    result = run(sample)
    assert result.exit_code == 0, result.output
    assert len(loads(result.stdout)) == count
    assert result.stderr.strip() == (
        f"{sample.name} ({sample.stem.split('_')[0]}): {count + (sample == LIQUIDLOGIC)} rows "
        f"read, {count} incidents converted"
    )


def test_records_and_errors_to_files_with_exit_1(tmp_path: Path) -> None:
    rows = sample_rows("liquidlogic")
    rows[0]["INCIDENT_DTTM"] = "31/02/2026"
    source = write_csv(tmp_path / "export.csv", rows)
    out, errors = tmp_path / "out.ndjson", tmp_path / "errors.ndjson"
    result = run(source, "--out", out, "--errors", errors)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert [r["incident"]["reference"] for r in loads(out.read_text())] == [
        "NEL-2026-002",
        "NEL-2026-003",
    ]
    (problem,) = [json.loads(line) for line in errors.read_text().splitlines()]
    assert problem == {
        "row": 2,
        "field": "INCIDENT_DTTM",
        "value": "31/02/2026",
        "message": "'31/02/2026' is not a real date: there is no day 31 in month 2 of year 2026",
        "incident": "NEL-2026-001",
    }
    assert "1 rows rejected" in result.stderr


def test_without_an_errors_file_problems_are_readable_lines_on_stderr(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "export.csv", [make_row("mosaic", GENDER="Q")])
    result = run(source)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == (
        "row 2, GENDER 'Q': 'Q' is not a known value; expected one of: M, Male, F, Female, U, "
        "Unknown, Not known"
    )


def _write(tmp_path: Path, content: bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "env", "says"),
    [
        (b"NAME,DOB\nSam,01/02/2015\n", {}, "as liquidlogic it lacks DIM_PERSON_ID, *_DTTM"),
        (b"", {}, "is empty (0 bytes)"),
        (b"\x00\x01\x02\x03binary", {}, "holds binary data"),
        (LIQUIDLOGIC.read_bytes(), {"CSINS_MAX_EXPORT_BYTES": "100"}, "the limit is 100 bytes"),
        (LIQUIDLOGIC.read_bytes(), {"CSINS_MAX_EXPORT_ROWS": "2"}, "more than 2 data rows"),
        (b"PK\x03\x04 not really a workbook", {}, "is not a readable XLSX workbook"),
        (b"\xef\xbb\xbf\xef\xbb\xbf\n", {}, "has no header row"),
        (b"\xef\xbb\xbf\n\xa0\n", {}, "has no header row"),
        (zip_bomb(), {}, "this looks like a zip bomb"),
        (
            with_shared_strings(
                write_xlsx(io.BytesIO(), [make_row("liquidlogic")]).getvalue(), 500
            ),
            {"CSINS_MAX_XLSX_STRINGS": "100"},
            "more than 100 distinct text values",
        ),
    ],
)
def test_a_file_that_cannot_be_read_exits_2_with_one_line(
    tmp_path: Path, content: bytes, env: dict[str, str], says: str
) -> None:
    out = tmp_path / "out.ndjson"
    result = run(_write(tmp_path, content), "--out", out, env=env)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and says in result.stderr
    assert result.stderr.startswith("error: ")
    assert not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "export.csv"]


@pytest.mark.parametrize("before", [b"\xef\xbb\xbf\xef\xbb\xbf\n", b"\xef\xbb\xbf\r\n\r\n"])
def test_a_byte_order_mark_on_its_own_line_before_the_header_exits_0(
    tmp_path: Path, before: bytes
) -> None:
    result = run(_write(tmp_path, before + MOSAIC.read_bytes()))
    assert result.exit_code == 0, result.output
    assert [r["source"]["row"] for r in loads(result.stdout)] == [
        n + before.count(b"\n") for n in (2, 3)
    ]


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path / "nothere.csv")
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "error: cannot open nothere.csv: No such file or directory",
    )


def test_a_header_without_rows_exits_0_saying_so(tmp_path: Path) -> None:
    source = _write(tmp_path, LIQUIDLOGIC.read_bytes().splitlines(keepends=True)[0])
    result = run(source)
    assert (result.exit_code, result.stdout) == (0, "")
    assert "a header but no data rows; nothing to convert" in result.stderr


def test_a_forced_system_that_does_not_fit_exits_2() -> None:
    result = run(LIQUIDLOGIC, "--system", "mosaic")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: liquidlogic_incidents.csv: ")
    assert "as mosaic it lacks INCIDENT_REFERENCE, NOTIFICATION_TYPE" in result.stderr


def test_a_bad_la_profile_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "mosaic.yaml").write_text("values:\n  child.sex:\n    X: xx\n")
    result = run(MOSAIC, env={"CSINS_CONFIG_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "values.child.sex.X: 'xx' is not allowed" in result.stderr


def test_no_progress_bar_when_stderr_is_not_a_terminal() -> None:
    result = run(LIQUIDLOGIC)
    assert len(result.stderr.splitlines()) == 1


def test_a_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: dict[str, Any] = {}
    real = click.progressbar

    def spy(**options: Any) -> Any:
        shown.update(options)
        return real(**{**options, "hidden": True})

    monkeypatch.setattr(click, "progressbar", spy)
    monkeypatch.setattr(convert_command, "_on_terminal", lambda: True)
    run(LIQUIDLOGIC)
    assert shown["hidden"] is False and shown["length"] == 4


def test_the_installed_command_in_a_real_process(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("csins-adapter")
    out = tmp_path / "out.ndjson"
    done = subprocess.run(
        [command, "convert", MOSAIC, "--out", out, "--today", TODAY.isoformat()],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(loads(out.read_text())) == 2
    refused = subprocess.run(
        [command, "convert", __file__], capture_output=True, text=True, check=False
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and "Traceback" not in refused.stderr


def test_an_output_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    result = run(MOSAIC, "--out", tmp_path / "missing" / "out.ndjson")
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"error: cannot write {tmp_path}/missing/out.ndjson: No such file or directory\n"
    )


def test_an_output_that_is_a_pipe_is_written_through_not_replaced(tmp_path: Path) -> None:
    """``--out /dev/stdout`` or a named pipe: renaming a temporary file over it would replace
    the device (as root, /dev/null became a regular file); it is written straight through."""
    import os
    import stat
    import threading

    pipe = tmp_path / "records.pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text()), daemon=True)
    reader.start()
    result = run(MOSAIC, "--out", pipe)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert len(loads(received[0])) == 2


def test_an_output_that_is_a_symlink_replaces_its_target_and_keeps_the_link(
    tmp_path: Path,
) -> None:
    target = tmp_path / "kept" / "records.ndjson"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.ndjson"
    link.symlink_to(target)
    result = run(MOSAIC, "--out", link)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == target
    assert len(loads(target.read_text())) == 2
