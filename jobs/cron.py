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
from jobs.defaults import (
    CHECKPOINT_INTERVAL,
    CHECKPOINT_JOB_TIMEOUT,
    DEADLINE_CHECK_INTERVAL,
    DEADLINE_CHECK_JOB_TIMEOUT,
    DIGEST_INTERVAL,
    DIGEST_JOB_TIMEOUT,
    SWEEP_INTERVAL,
    SWEEP_JOB_TIMEOUT,
)
from jobs.digest import send_digests
from jobs.maintenance import check_deadlines, checkpoint, sweep

cron.register(sweep, MAINTENANCE, interval=SWEEP_INTERVAL, job_timeout=SWEEP_JOB_TIMEOUT)
cron.register(
    check_deadlines,
    MAINTENANCE,
    interval=DEADLINE_CHECK_INTERVAL,
    job_timeout=DEADLINE_CHECK_JOB_TIMEOUT,
)
cron.register(
    checkpoint, MAINTENANCE, interval=CHECKPOINT_INTERVAL, job_timeout=CHECKPOINT_JOB_TIMEOUT
)
cron.register(send_digests, MAINTENANCE, interval=DIGEST_INTERVAL, job_timeout=DIGEST_JOB_TIMEOUT)
