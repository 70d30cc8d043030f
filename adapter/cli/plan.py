"""``csins-adapter plan FILE.json``: what one incident record obliges, as JSON (DESIGN.md §7).

The file holds one incident record, optionally with an ``events`` list (the events the API takes).
Exit codes, mirroring ``convert``:

- 0: the plan is printed on stdout (warnings, such as a future ``became_aware_on``, inside it);
- 1: the record or an event is invalid (every field error on stderr, ``path: message`` one per
  line), an event is refused, or a date falls outside the known bank-holiday years;
- 2: the file cannot be read or is not JSON, or the configuration is invalid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn

import click

from adapter.clock import london_today
from adapter.deadlines.plan import load_plan_input, plan_incident
from adapter.errors import CalendarRangeError, EventRefused, InvalidRecord
from config.settings import SettingsError, load_settings

EXIT_INVALID = 1
"""Exit status for an invalid record or event, a refused event, or a date out of range."""

EXIT_UNREADABLE = 2
"""Exit status for a file that cannot be read or parsed, or a bad configuration."""


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def plan(file: Path) -> None:
    """Print the obligations of the incident record in FILE (JSON) as JSON."""
    try:
        data = json.loads(file.read_bytes())
    except OSError as error:
        _fail(f"{file}: cannot be read ({error.strerror or error})", EXIT_UNREADABLE)
    except UnicodeDecodeError as error:
        _fail(f"{file}: not UTF-8 text ({error.reason})", EXIT_UNREADABLE)
    except json.JSONDecodeError as error:
        _fail(
            f"{file}: not JSON ({error.msg} at line {error.lineno}, column {error.colno})",
            EXIT_UNREADABLE,
        )
    except RecursionError:
        # The parser recurses once per nested array or object: no record nests this deep.
        _fail(f"{file}: JSON nested too deeply to read", EXIT_UNREADABLE)
    try:
        policy = load_settings().policy
    except SettingsError as error:
        _fail(f"configuration: {error}", EXIT_UNREADABLE)
    try:
        record, events = load_plan_input(data)
        result = plan_incident(record, events, policy, today=london_today())
    except InvalidRecord as error:
        _fail("\n".join(f"{path}: {message}" for path, message in error.problems), EXIT_INVALID)
    except (EventRefused, CalendarRangeError) as error:
        _fail(str(error), EXIT_INVALID)
    click.echo(json.dumps(result.to_json_dict(), indent=2, ensure_ascii=False))


def _fail(message: str, status: int) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(status)
