"""Options that more than one command takes, written once so that they read the same."""

from __future__ import annotations

import click

from adapter.importers import SYSTEMS

system_option = click.option(
    "--system",
    type=click.Choice(("auto", *SYSTEMS), case_sensitive=False),
    default="auto",
    show_default=True,
    help="The case system that produced the export; auto detects it from the headers.",
)
"""``--system``: which case system made the export (``convert``, ``import``)."""
