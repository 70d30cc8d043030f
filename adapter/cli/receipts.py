"""``csins-adapter receipts verify FILE [--jwks FILE|URL]``: check a receipt or checkpoint offline.

Exit 0 with one ``valid: ...`` line when the file verifies; exit 1 with one ``invalid: <reason>``
line on standard error otherwise (bad signature, unknown key, an altered field named, a malformed
file or JWKS, a JWKS that cannot be fetched). Never a traceback: the file comes from outside.

``--jwks`` takes a file or an ``http(s)://`` URL. Without it the JWKS of the service on this
machine is fetched (``run`` and ``serve`` listen on 127.0.0.1:8000 by default); anyone verifying
a receipt for themselves should pass the JWKS they obtained from the deployment they trust.

``receipts new-key KEYS_DIR`` rotates the signing key (see :func:`new_key`).
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from adapter.receipts.errors import ReceiptError
from adapter.receipts.jwks import read_jwks
from adapter.receipts.keys import create_signing_key
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt, read_file, verify_signed

DEFAULT_JWKS_URL = "http://127.0.0.1:8000/.well-known/jwks.json"
"""Where ``--jwks`` points when not given: the local service's published keys."""


@click.group()
def receipts() -> None:
    """Delivery receipts: prove what was sent to which addressee, and when it was acknowledged."""


@receipts.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--jwks",
    "jwks_source",
    metavar="FILE|URL",
    default=DEFAULT_JWKS_URL,
    show_default=True,
    help="The published keys (RFC 7517 JWKS): a file, or an http(s) URL.",
)
def verify(file: Path, jwks_source: str) -> None:
    """Verify a receipt (or checkpoint) FILE: signature, key, and every readable field."""
    try:
        signed = read_file(file, (SignedReceipt, SignedCheckpoint))
        verified = verify_signed(signed, read_jwks(jwks_source))
    except ReceiptError as exc:
        _fail(str(exc))
    except Exception as exc:  # hostile input must end in one line, never in a traceback
        _fail(f"cannot verify {file}: {type(exc).__name__}: {exc}")
    content = verified.content
    if isinstance(signed, SignedCheckpoint):
        click.echo(
            f"valid: checkpoint of {content['size']} receipts, head {content['head_sha256']}, "
            f"issued {content['issued_at']}, signed by {verified.kid}"
        )
    else:
        click.echo(
            f"valid: receipt {content['receipt_id']} #{content['sequence']} {content['document']} "
            f"to {content['addressee']}, acknowledged {content['acknowledged_at']}, "
            f"signed by {verified.kid}"
        )


@receipts.command("new-key")
@click.argument("keys_dir", metavar="KEYS_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--keep-old-private",
    is_flag=True,
    help="Keep older private keys instead of retiring them to public-only files.",
)
def new_key(keys_dir: Path, keep_old_private: bool) -> None:
    """Rotate: write the next signing key into KEYS_DIR; print its key id alone on the last line.

    Older keys stay published, so receipts they signed stay verifiable. Restart the web
    processes and workers to sign with the new key and publish it.
    """
    try:
        kid = create_signing_key(keys_dir, retire_old=not keep_old_private)
    except (ReceiptError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"New receipt signing key in {keys_dir}; it signs from the next restart.")
    click.echo(kid)


def _fail(reason: str) -> NoReturn:
    click.echo(f"invalid: {' '.join(reason.split())}", err=True)
    raise SystemExit(1)
