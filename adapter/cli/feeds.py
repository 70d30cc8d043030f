"""``csins-adapter feeds``: create, list and revoke calendar feed tokens (issue 18).

A feed token lets one person's calendar client read one LA's deadline feed
(``GET /api/v1/deadlines.ics?token=…``); it is shown once, stored only as a hash.
"""

from __future__ import annotations

import click

from adapter.cli.db import opened_database, require_migrated
from adapter.store import feed_tokens


@click.group()
def feeds() -> None:
    """Calendar feed tokens: each reads one local authority's deadline feed, nothing else."""


@feeds.command()
@click.option("--la", "la_code", required=True, help="3-digit LA code whose deadlines it reads.")
@click.option("--label", required=True, help="Whose calendar it is for (a person or a team).")
def create(la_code: str, label: str) -> None:
    """Create a token and print it once, alone on the last line."""
    with opened_database() as database:
        require_migrated(database)
        try:
            with database.session_scope() as session:
                new = feed_tokens.create_token(session, la_code=la_code, label=label)
        except feed_tokens.FeedTokenError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Created feed token {new.token_id} (prefix {new.prefix}) for LA {new.la_code}.")
    click.echo("Subscribe to <service address>/api/v1/deadlines.ics?token=<token> in a calendar.")
    click.echo("Store it now: it is shown only this once and cannot be recovered.")
    click.echo(new.token)


@feeds.command("list")
def list_() -> None:
    """List tokens: id, prefix, LA, state, last use and label (never the secrets)."""
    with opened_database() as database:
        require_migrated(database)
        with database.session_scope() as session:
            for row in feed_tokens.list_tokens(session):
                state = "revoked" if row.revoked_at else "active"
                used = row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "-"
                click.echo(
                    f"{row.id}\t{row.prefix}\t{row.la_code}\t{state}\tlast used {used}\t{row.label}"
                )


@feeds.command()
@click.argument("prefix")
def revoke(prefix: str) -> None:
    """Revoke the token whose prefix (the part after 'csinsfeed_') is PREFIX."""
    with opened_database() as database:
        require_migrated(database)
        with database.session_scope() as session:
            found = feed_tokens.revoke_token(session, prefix) is not None
    if not found:
        raise click.ClickException(f"no feed token has the prefix {prefix!r}")
    click.echo(f"Revoked feed token {prefix}.")
