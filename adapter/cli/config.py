"""``config check``: is the configuration one the service will start with? (DESIGN.md §6, §7)

Reads the settings as every process does (``CSINS_CONFIG_DIR``, env vars), checks the routes of
``addressees.yaml`` and builds every channel they use. Prints the routes and exits 0; prints what
is wrong, naming the addressee, document, channel or key, and exits 1. A credential named by an
env var that is not set here is a note, not a refusal (it may be set where the worker runs).
"""

from __future__ import annotations

import click

from adapter.delivery.errors import ChannelConfigError
from adapter.delivery.routes import Routes
from config.settings import SettingsError, load_settings

EXIT_REFUSED = 1
"""Exit status of a configuration the service would refuse to start with."""


@click.group()
def config() -> None:
    """Check the service's configuration."""


@config.command()
def check() -> None:
    """Check config/ (or CSINS_CONFIG_DIR) and the env vars it names; list the routes."""
    try:
        settings = load_settings()
        routes = Routes(settings.addressees, settings.environ)
    except (SettingsError, ChannelConfigError) as error:
        click.echo(f"refused: {error}", err=True)
        raise SystemExit(EXIT_REFUSED) from None
    for note in routes.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(f"config: {settings.config_dir}")
    for addressee in sorted({route.addressee for route in routes.table()}):
        by_channel: dict[str, list[str]] = {}
        for route in routes.table():
            if route.addressee == addressee:
                by_channel.setdefault(route.channel, []).append(route.document)
        for channel, documents in sorted(by_channel.items()):
            click.echo(f"{addressee}: {channel}: {', '.join(documents)}")
    click.echo("ok")
