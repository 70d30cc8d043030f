"""The ``csins-adapter`` command (click). Each subcommand lives in its own module."""

from __future__ import annotations

import click

from adapter import __version__


@click.group()
@click.version_option(__version__, prog_name="csins-adapter")
def main() -> None:
    """Serious child safeguarding incident notifications: convert, plan, deliver, prove."""


def _register() -> None:
    """Attach the subcommands; imported lazily so a missing optional part never breaks the rest."""
    from adapter.cli import convert, db, keys, plan, receipts, run, sandbox, service

    main.add_command(convert.convert)
    main.add_command(plan.plan)
    main.add_command(db.db)
    main.add_command(keys.keys)
    main.add_command(receipts.receipts)
    main.add_command(sandbox.sandbox)
    main.add_command(run.run)
    main.add_command(service.serve)
    main.add_command(service.worker)
    main.add_command(service.scheduler)


_register()
