"""``worker`` (RQ) and ``scheduler`` (RQ cron): the commands that run jobs.

They live here, not in :mod:`adapter.cli`, because they need :mod:`jobs` and ``adapter`` never
imports it; ``csins-adapter`` names them by their dotted path (:data:`adapter.cli.SUBCOMMANDS`).
"""

from __future__ import annotations

import click

__all__ = ["scheduler", "worker"]


@click.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty (tests, batch runs).")
@click.option(
    "--name", default=None, help="Worker name, unique among live workers (defaults to RQ's own)."
)
def worker(burst: bool, name: str | None) -> None:
    """Run an RQ worker on every queue of the service, with RQ's scheduler for retries."""
    from jobs.worker import run_worker

    run_worker(burst=burst, name=name)


@click.command()
def scheduler() -> None:
    """Run RQ's cron scheduler with the service's cron table (jobs/cron.py)."""
    from jobs.scheduler import run_scheduler

    run_scheduler()
