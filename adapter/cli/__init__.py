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
    from adapter.cli import convert, plan

    main.add_command(convert.convert)
    main.add_command(plan.plan)


_register()
