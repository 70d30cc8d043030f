"""``csins-adapter keys``: create, list and revoke API keys (DESIGN.md §7)."""

from __future__ import annotations

import click

from adapter.cli.db import opened_database, require_migrated
from adapter.store import api_keys
from adapter.store.access_models import ROLES


@click.group()
def keys() -> None:
    """API keys: each bound to one local authority (or '*' for admins) and one role."""


@keys.command()
@click.option("--la", "la_code", required=True, help="3-digit LA code, or '*' (admin only).")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the key may do.")
@click.option("--name", help="A label for people: who or what holds the key.")
def create(la_code: str, role: str, name: str | None) -> None:
    """Create a key and print it once, alone on the last line."""
    with opened_database() as database:
        require_migrated(database)
        try:
            with database.session_scope() as session:
                new = api_keys.create_key(session, la_code=la_code, role=role, name=name)
        except api_keys.ApiKeyError as exc:
            raise click.ClickException(str(exc)) from exc
    scope = "every local authority" if new.la_code == "*" else f"LA {new.la_code}"
    click.echo(f"Created key {new.key_id} (prefix {new.prefix}) for {scope}, role {new.role}.")
    click.echo("Store it now: it is shown only this once and cannot be recovered.")
    click.echo(new.key)


@keys.command("list")
def list_() -> None:
    """List keys: id, prefix, LA, role, state and name (never the secrets)."""
    with opened_database() as database:
        require_migrated(database)
        with database.session_scope() as session:
            rows = api_keys.list_keys(session)
            for row in rows:
                state = "revoked" if row.revoked_at else "active"
                used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "-"
                click.echo(
                    f"{row.id}\t{row.prefix}\t{row.la_code}\t{row.role}\t{state}"
                    f"\tlast used {used}\t{row.name or ''}"
                )


@keys.command()
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Revoke the key whose prefix (the part after 'csins_') is PREFIX."""
    with opened_database() as database:
        require_migrated(database)
        with database.session_scope() as session:
            found = api_keys.revoke_key(session, prefix)
    if not found:
        raise click.ClickException(f"no key has the prefix {prefix!r}")
    click.echo(f"Revoked key {prefix}.")
