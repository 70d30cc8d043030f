"""The cron table, read by RQ's own scheduler: ``rq cron jobs.cron`` or ``csins-adapter scheduler``.

One scheduler is enough (it only enqueues; workers run the jobs), but several may run, e.g. one
per machine so that losing a machine does not stop the sweeps. RQ's cron does not coordinate
them: each enqueues its own runs, so with N schedulers every job runs about N times as often.
Every job here is safe to run twice and at the same time: a sweep enqueues a try once (job ids
are per try), deadline checks lock the rows they update, a checkpoint is one more signature,
and the daily digest is claimed once per LA and day in the database.
"""

from __future__ import annotations

from rq import cron

from adapter.queue import MAINTENANCE
from jobs.digest import send_digests
from jobs.maintenance import check_deadlines, checkpoint, sweep

SWEEP_INTERVAL = 15
"""Seconds between outbox sweeps: the longest a delivery waits when its job was lost."""

DEADLINE_CHECK_INTERVAL = 300
"""Seconds between deadline checks (statuses change at most once a day; alerts want promptness)."""

CHECKPOINT_INTERVAL = 300
"""Seconds between signed checkpoints of the receipt log (each also appended to the witness
file outside the database: what a truncation of the log cannot rewrite)."""

DIGEST_INTERVAL = 300
"""Seconds between looks at whether the daily digest is due (it goes once a day per LA)."""

cron.register(sweep, MAINTENANCE, interval=SWEEP_INTERVAL, job_timeout=120)
cron.register(check_deadlines, MAINTENANCE, interval=DEADLINE_CHECK_INTERVAL, job_timeout=300)
cron.register(checkpoint, MAINTENANCE, interval=CHECKPOINT_INTERVAL, job_timeout=60)
cron.register(send_digests, MAINTENANCE, interval=DIGEST_INTERVAL, job_timeout=300)
