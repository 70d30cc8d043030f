"""``csins-adapter sandbox``: run the built-in sandbox receiver in the foreground (DESIGN.md §6)."""

from __future__ import annotations

from pathlib import Path

import click

from adapter.delivery import defaults
from adapter.delivery.errors import SignatureError
from adapter.delivery.https import is_loopback
from adapter.delivery.signing import VerifyingKey
from adapter.sandbox.server import make_server


@click.command()
@click.option(
    "--host", default=defaults.SANDBOX_HOST, show_default=True, help="Interface to listen on."
)
@click.option(
    "--port",
    default=defaults.SANDBOX_PORT,
    show_default=True,
    type=int,
    help="TCP port (0: any free port, printed on start).",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the received ids and faults in this JSON file (shared by processes).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="KEY",
    help="A trusted key: whsec_ (v1), whpk_ or whsk_ (v1a). Repeatable. "
    "Default: the development keys the sandbox channel signs with.",
)
@click.option(
    "--tolerance",
    default=defaults.SANDBOX_TIMESTAMP_TOLERANCE_SECONDS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Seconds a webhook-timestamp may be off.",
)
def sandbox(
    host: str, port: int, state_file: Path | None, keys: tuple[str, ...], tolerance: int
) -> None:
    """Play the four addressees at http://HOST:PORT/<addressee> until interrupted."""
    try:
        trusted = [VerifyingKey.parse(key) for key in keys] or None
    except SignatureError as exc:
        raise click.BadParameter(str(exc), param_hint="--key") from None
    if not is_loopback(host):
        click.echo(
            "warning: the sandbox accepts anything signed with the development keys; "
            "it should listen on loopback only",
            err=True,
        )
    try:
        server = make_server(
            host, port, state_file=state_file, keys=trusted, tolerance_seconds=tolerance
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"sandbox receiver listening on {server.base_url}", nl=True)
    try:
        server.serve_forever(poll_interval=defaults.SANDBOX_POLL_INTERVAL_SECONDS)
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()
