"""Named defaults of the jobs and the processes that run them, each with its unit.

The RQ options of the jobs the application enqueues (timeouts, TTLs, the per-addressee limit)
are :mod:`adapter.queue`'s, since ``adapter`` never imports ``jobs``; the numbers the policy
gives (retry schedule, stuck deliveries and imports) are ``config/policy.yaml``'s.
"""

from __future__ import annotations

import datetime as dt

# --- the cron table (jobs.cron) -------------------------------------------------------------

SWEEP_INTERVAL = 15
"""Seconds between outbox sweeps: the longest a delivery waits when its job was lost."""

SWEEP_JOB_TIMEOUT = 120
"""Seconds one sweep may run before RQ stops it."""

DEADLINE_CHECK_INTERVAL = 300
"""Seconds between deadline checks (statuses change at most once a day; alerts want promptness)."""

DEADLINE_CHECK_JOB_TIMEOUT = 300
"""Seconds one deadline check may run before RQ stops it."""

CHECKPOINT_INTERVAL = 300
"""Seconds between signed checkpoints of the receipt log (each also appended to the witness
file outside the database: what a truncation of the log cannot rewrite)."""

CHECKPOINT_JOB_TIMEOUT = 60
"""Seconds one checkpoint may take before RQ stops it."""

DIGEST_INTERVAL = 300
"""Seconds between looks at whether the daily digest is due (it goes once a day per LA)."""

DIGEST_JOB_TIMEOUT = 300
"""Seconds one look at the digests (and the sending of those due) may take before RQ stops it."""

# --- the sweep (jobs.maintenance) -----------------------------------------------------------

SWEEP_BATCH = 500
"""Deliveries one sweep reads at a time."""

SWEEP_BATCHES = 40
"""Most batches one sweep reads (20 000 due deliveries; the next sweep takes the rest). It
reads past due deliveries whose jobs are alive (a backlog waiting on the per-addressee limit),
so a lost job behind a long backlog is not left waiting until the backlog drains."""

SLOT_RECLAIM_GRACE_SECONDS = 10.0
"""Seconds a per-addressee slot's job must have looked unowned to the sweeps before they free
the slot (:func:`adapter.queue.reclaim_addressee_slots`): a worker holds a job it has just
taken, still "queued", for a moment before marking it started. Sweeps are
:data:`SWEEP_INTERVAL` apart, so in practice the second sweep to see it frees it."""

SCHEDULER_GRACE = dt.timedelta(seconds=30)
"""How late a scheduled retry may be before the sweep enqueues it itself: RQ's scheduler runs
inside one worker at a time, and after that worker dies its lock outlives it for a minute."""

# --- the delivery job (jobs.deliver) --------------------------------------------------------

TRANSACTION_TRIES = 3
"""Tries in all of the job's ``start`` and ``record`` transactions when the database connection
is lost under them; a longer outage leaves the row ``sending``, for the sweeper."""

TRANSACTION_RETRY_WAIT_SECONDS = 0.5
"""Seconds before the second try of such a transaction, doubled before each later one; up to as
many again are added at random, so that the workers of a failover do not all come back at once."""

# --- the worker process (jobs.worker) and Redis outages (jobs.outages) ----------------------

MAINTENANCE_INTERVAL = 60
"""Seconds between a worker's RQ housekeeping runs (RQ's default is 600): each run frees what a
killed worker left behind (its job's rate-limit slot, once the job's heartbeat has expired) and
takes over RQ's scheduler when the worker that ran it is gone, so retries do not wait long."""

PUBSUB_WAKE_SECONDS = 1.0
"""Seconds a worker's command-channel thread waits for a message before looking whether it
should stop (RQ's is 60). redis-py 8 makes the worker's stop wait for that thread, so a worker
asked to stop waited up to a minute whenever the thread had read the unsubscribe reply first."""

PUBSUB_RETRY_SECONDS = 2.0
"""Seconds between a worker's tries to listen to its command channel again while Redis is away."""

FIRST_WAIT_SECONDS = 1.0
"""Seconds before the first look at whether Redis answers again; doubled after each miss."""

MAX_WAIT_SECONDS = 30.0
"""Longest wait (seconds) between two looks at whether Redis answers again."""
