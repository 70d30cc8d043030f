"""``csins-adapter receipts verify FILE [--jwks FILE|URL]``: check a receipt or checkpoint offline.

Exit 0 with one ``valid: ...`` line when the file verifies; exit 1 with one ``invalid: <reason>``
line on standard error otherwise (bad signature, unknown key, an altered field named, a malformed
file or JWKS, a JWKS that cannot be fetched). Never a traceback: the file comes from outside.

``--jwks`` takes a file or an ``http(s)://`` URL. Without it the JWKS of the service on this
machine is fetched (``run`` and ``serve`` listen on 127.0.0.1:8000 by default); anyone verifying
a receipt for themselves should pass the JWKS they obtained from the deployment they trust.

``receipts audit [--checkpoint FILE]... [--jwks FILE|URL]`` re-walks the log in the configured
database: exit 0 with ``intact: N receipts, M checkpoints``; exit 1 with one
``broken at #N (kind): reason`` line on standard error at the first break (an edited row is
``altered``; an acknowledged delivery without its receipt is ``missing``, naming the delivery and
how many there are); exit 2 when the audit cannot run (settings, database, an untrustworthy
checkpoint file or JWKS).

``receipts checkpoint [--file FILE]`` signs the log's head now, stores it and appends it to the
witness file outside the database (:mod:`adapter.receipts.witness`); exit 2 when it cannot.

``receipts new-key KEYS_DIR`` rotates the signing key (see :func:`new_key`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError

from adapter.cli.db import require_migrated
from adapter.receipts.audit import AuditResult, audit_database
from adapter.receipts.errors import ReceiptError
from adapter.receipts.jwks import read_jwks
from adapter.receipts.keys import create_signing_key
from adapter.receipts.log import signer_for
from adapter.receipts.signed import SignedCheckpoint, SignedReceipt, read_file, verify_signed
from adapter.receipts.witness import checkpoint_and_witness, read_checkpoints, witness_path
from adapter.store.database import Database
from config.settings import Settings, SettingsError, load_settings

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


class CannotAudit(click.ClickException):
    """The audit could not run at all (exit 2), as opposed to finding a break (exit 1)."""

    exit_code = 2


@receipts.command()
@click.option(
    "--checkpoint",
    "checkpoint_files",
    metavar="FILE",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=(
        "Checkpoints kept outside the database: a checkpoint file, or the witness file "
        "(one checkpoint per line, as the service appends them); the log must still match "
        "every one. Repeatable."
    ),
)
@click.option(
    "--jwks",
    "jwks_source",
    metavar="FILE|URL",
    default=None,
    help="Check signatures with these published keys instead of the configured signing keys.",
)
def audit(checkpoint_files: tuple[Path, ...], jwks_source: str | None) -> None:
    """Re-walk the receipt log in the configured database: signatures, links and checkpoints.

    Every receipt is verified, then its sequence number, its link to the one before and the
    columns stored beside it; every stored checkpoint and each --checkpoint FILE is compared
    with the log at its size; the end of the log is compared with the head the last append
    recorded; every acknowledged delivery must have its receipt. Exit 0 when intact, 1 at the
    first break (its receipt number and the reason), 2 when the audit cannot run.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CannotAudit(str(exc)) from exc
    keys = _audit_keys(settings, jwks_source)
    checkpoints = [
        checkpoint for path in checkpoint_files for checkpoint in _trusted_checkpoints(path, keys)
    ]
    result = _run_audit(settings, keys, checkpoints)
    found = result.first_break
    if found is not None:
        click.echo(
            f"broken at #{found.sequence} ({found.kind}): {' '.join(found.reason.split())}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"intact: {result.receipts} receipts, {result.checkpoints} checkpoints")


def _audit_keys(settings: Settings, jwks_source: str | None) -> Mapping[str, Ed25519PublicKey]:
    try:
        if jwks_source is not None:
            return read_jwks(jwks_source)
        return signer_for(settings).public_keys
    except ReceiptError as exc:
        raise CannotAudit(str(exc)) from exc


def _trusted_checkpoints(
    path: Path, keys: Mapping[str, Ed25519PublicKey]
) -> list[SignedCheckpoint]:
    """The checkpoints in ``path``, each verified on its own before the log is compared."""
    try:
        found = read_checkpoints(path)
    except ReceiptError as exc:
        raise CannotAudit(f"checkpoint {path} cannot be trusted: {exc}") from exc
    for number, checkpoint in enumerate(found, start=1):
        try:
            verify_signed(checkpoint, keys)
        except ReceiptError as exc:
            where = f"checkpoint {path}" if len(found) == 1 else f"checkpoint {number} of {path}"
            raise CannotAudit(f"{where} cannot be trusted: {exc}") from exc
    return found


@receipts.command("checkpoint")
@click.option(
    "--file",
    "witness_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append to this file instead of the configured one (CSINS_CHECKPOINT_FILE, or "
    "receipt-checkpoints.jsonl in the data dir).",
)
def checkpoint_command(witness_file: Path | None) -> None:
    """Sign the receipt log's head now: store the checkpoint and append it to the witness file.

    The scheduler does this every few minutes; run it before a backup, or to hand a
    checkpoint to someone who keeps it. Prints the size and head it covers, then the file.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise CannotAudit(str(exc)) from exc
    path = witness_file or witness_path(settings)
    database = Database()
    try:
        database.configure(settings)
        require_migrated(database)
        signed = checkpoint_and_witness(database, signer_for(settings), path)
    except click.ClickException as exc:
        raise CannotAudit(exc.message) from exc
    except (SettingsError, SQLAlchemyError, ReceiptError, OSError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CannotAudit(f"cannot sign a checkpoint: {detail}") from exc
    finally:
        database.dispose()
    if signed is None:
        click.echo("the receipt log is empty: nothing to checkpoint")
        return
    content = signed.content
    click.echo(
        f"checkpoint of {content['size']} receipts, head {content['head_sha256']}, "
        f"issued {content['issued_at']}, appended to {path}"
    )


def _run_audit(
    settings: Settings,
    keys: Mapping[str, Ed25519PublicKey],
    checkpoints: list[SignedCheckpoint],
) -> AuditResult:
    database = Database()
    try:
        database.configure(settings)
        require_migrated(database)
        return audit_database(database, keys, checkpoints=checkpoints)
    except click.ClickException as exc:  # not migrated
        raise CannotAudit(exc.message) from exc
    except (SettingsError, SQLAlchemyError) as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise CannotAudit(f"cannot read the receipt log: {detail}") from exc
    finally:
        database.dispose()


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
