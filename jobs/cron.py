"""The cron table, read by RQ's own scheduler: ``rq cron jobs.cron`` or ``csins-adapter scheduler``.

Several schedulers may run (one per machine): RQ's cron keeps each job's runs apart, and every
job here is safe to run twice.
"""

from __future__ import annotations

from rq import cron

from jobs.maintenance import check_deadlines, checkpoint, sweep
from jobs.queues import MAINTENANCE

SWEEP_INTERVAL = 15
"""Seconds between outbox sweeps: the longest a delivery waits when its job was lost."""

DEADLINE_CHECK_INTERVAL = 300
"""Seconds between deadline checks (statuses change at most once a day; alerts want promptness)."""

CHECKPOINT_INTERVAL = 3600
"""Seconds between signed checkpoints of the receipt log."""

cron.register(sweep, MAINTENANCE, interval=SWEEP_INTERVAL, job_timeout=120)
cron.register(check_deadlines, MAINTENANCE, interval=DEADLINE_CHECK_INTERVAL, job_timeout=300)
cron.register(checkpoint, MAINTENANCE, interval=CHECKPOINT_INTERVAL, job_timeout=60)
