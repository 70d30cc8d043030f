"""The ``csins-adapter`` command (click). Each subcommand lives in its own module.

Subcommands are imported only when run, so ``convert`` and ``plan`` start without loading the
web stack (Flask, SQLAlchemy, RQ) that ``serve`` and ``worker`` need.
"""

from __future__ import annotations

import importlib

import click

from adapter import __version__

SUBCOMMANDS: dict[str, str] = {
    "config": "adapter.cli.config:config",
    "convert": "adapter.cli.convert:convert",
    "plan": "adapter.cli.plan:plan",
    "rules": "adapter.cli.rules:rules",
    "run": "adapter.cli.run:run",
    "serve": "adapter.cli.service:serve",
    "worker": "jobs.commands:worker",
    "scheduler": "jobs.commands:scheduler",
    "import": "adapter.cli.imports:import_export",
    "sandbox": "adapter.cli.sandbox:sandbox",
    "db": "adapter.cli.db:db",
    "keys": "adapter.cli.keys:keys",
    "feeds": "adapter.cli.feeds:feeds",
    "receipts": "adapter.cli.receipts:receipts",
}
"""Command name → ``module:attribute`` of its click command. The commands that run jobs live in
:mod:`jobs` (which imports ``adapter``; ``adapter`` never imports ``jobs``)."""


class LazyGroup(click.Group):
    """A group that imports a subcommand's module the first time it is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="csins-adapter")
def main() -> None:
    """Serious child safeguarding incident notifications: convert, plan, deliver, prove."""
