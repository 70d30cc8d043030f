"""``run_import(import_id)``: convert and write an uploaded export in the background (§7).

The work is :func:`adapter.service.import_runs.run_import`: a batch per transaction, each with the
import's progress, so a run whose worker dies is taken over by another (the sweeper enqueues it,
:func:`jobs.maintenance.sweep`) where its last commit ended. Deliveries of the incidents it
writes are published as each batch commits.
"""

from __future__ import annotations

from adapter.service import import_runs
from jobs.context import context


def run_import(import_id: str) -> str:
    """Run (or resume) one import; returns its status after (RQ keeps it as the job's result)."""
    ctx = context()
    return import_runs.run_import(ctx.database, ctx.settings, import_id)
