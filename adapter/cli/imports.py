"""``csins-adapter import FILE --la CODE``: an export imported from the command line (§7).

The same import as ``POST /imports``: the file is checked and stored, then converted and
written a batch per transaction, here in this process with a progress bar (on a terminal), so
no worker is needed. The import is also on the workers' queue, as every import is: when a
worker takes it first, the bar follows the worker's progress instead (and this process takes
it over should that worker die). Should this command be stopped part-way, the import is left
``running`` and a worker takes it over where its last batch ended (the sweeper finds it, as it
finds an import whose worker died). The deliveries it queues go to the workers' queue.

Exit status: 0 every row imported as a new or unchanged incident, 1 some rows rejected or some
incidents not submitted (a conflict, an invalid record: the summary and ``GET /imports/{id}``
say which), 2 the file cannot be imported at all (unreadable, over the limits, a bad LA code).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from adapter.cli.options import system_option
from adapter.clock import utcnow
from adapter.errors import CsinsError
from adapter.queue import RqPublisher
from adapter.service.import_runs import accept_import, run_import
from adapter.store import Database
from adapter.store.api_keys import Principal
from adapter.store.import_runs import import_detail
from adapter.store.models import ImportRunRow
from config.settings import Settings, SettingsError, load_settings

EXIT_IMPORTED = 0
EXIT_NOT_ALL = 1
EXIT_UNREADABLE = 2

FOLLOW_SECONDS = 0.5
"""Seconds between looks at an import a worker is running."""

FINISHED = ("done", "failed")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--la", "la_code", required=True, help="The LA the export is from (its DfE code).")
@system_option
def import_export(file: Path, la_code: str, system: str) -> None:
    """Import an export: each incident submitted as POST /incidents would."""
    try:
        settings = load_settings()
        database = Database.from_settings(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database.publisher = RqPublisher(settings)
    operator = Principal(key_id=None, la_code=la_code, role="local_authority")
    try:
        with file.open("rb") as stream:
            record = accept_import(
                database, settings, operator, stream, file.name, system=system.lower(), now=utcnow()
            )
    except CsinsError as error:
        click.echo(f"csins-adapter import: {error}", err=True)
        sys.exit(EXIT_UNREADABLE)
    click.echo(f"import {record.id}: {record.rows_total} rows ({record.system})", err=True)
    with click.progressbar(
        length=record.rows_total or 0, label="importing", file=sys.stderr
    ) as bar:
        seen = 0

        def moved(progress: ImportRunRow) -> None:
            nonlocal seen
            bar.update(progress.rows_read - seen)
            seen = progress.rows_read

        _run_or_follow(database, settings, record.id, moved)
    sys.exit(_summary(database, record.id))


def _run_or_follow(
    database: Database,
    settings: Settings,
    import_id: str,
    moved: Callable[[ImportRunRow], None],
) -> None:
    """Run the import here until it is finished; while a worker runs it, follow its progress,
    and take it over should the worker die (``run_import`` takes only an import no live run
    holds)."""
    followed = False
    while run_import(database, settings, import_id, moved) not in FINISHED:
        if not followed:
            click.echo("a worker took this import first: following its progress", err=True)
            followed = True
        with database.session_scope() as session:
            record = session.get_one(ImportRunRow, import_id)
            moved(record)
            if record.status in FINISHED:
                return
        time.sleep(FOLLOW_SECONDS)


def _summary(database: Database, import_id: str) -> int:
    """One line on stderr for people; the exit status."""
    with database.session_scope() as session:
        record = session.get_one(ImportRunRow, import_id)
        detail = import_detail(database.keyring, record)
    outcomes = ", ".join(f"{n} {name}" for name, n in sorted(detail.incident_outcomes.items()))
    click.echo(
        f"import {import_id} {record.status}: {record.rows_read} rows read; incidents: "
        f"{outcomes or 'none'}; {detail.rows_rejected} rows rejected",
        err=True,
    )
    if detail.failure:
        click.echo(f"failed: {detail.failure}", err=True)
        return EXIT_UNREADABLE
    submitted = detail.incident_outcomes.get("created", 0) + detail.incident_outcomes.get(
        "identical", 0
    )
    complete = detail.rows_rejected == 0 and submitted == detail.incident_count
    return EXIT_IMPORTED if complete and record.status == "done" else EXIT_NOT_ALL
