"""Named defaults for delivery channels and the sandbox receiver, each with its unit.

An addressee's entry in ``config/addressees.yaml`` may override the per-channel ones; the number
of quick tries comes from ``policy.yaml`` (``quick_tries``) through the caller.
"""

from __future__ import annotations

# --- https (and sandbox) channel -------------------------------------------------------------

CONNECT_TIMEOUT_SECONDS = 5.0
"""Seconds to wait for a TCP (and TLS) connection to an addressee's endpoint."""

READ_TIMEOUT_SECONDS = 20.0
"""Seconds to wait for the addressee's response (Standard Webhooks suggests 15-30 s)."""

WRITE_TIMEOUT_SECONDS = 20.0
"""Seconds allowed for sending the request body."""

POOL_TIMEOUT_SECONDS = 5.0
"""Seconds to wait for a free connection from the client's pool."""

MAX_RESPONSE_BYTES = 64 * 1024
"""Bytes of an addressee's response body read to find its ``reference`` (the rest is ignored)."""

# --- smtp channel ----------------------------------------------------------------------------

SMTP_PORT = 587
"""TCP port of the mail relay when ``port`` is not configured (submission, with STARTTLS)."""

SMTP_TIMEOUT_SECONDS = 30.0
"""Seconds allowed for each SMTP socket operation (connect, command, reply)."""

# --- quick tries inside one send (DESIGN.md §6) ----------------------------------------------

QUICK_TRIES = 3
"""Tries per send when the caller gives none (normally ``Policy.quick_tries``)."""

QUICK_RETRY_INITIAL_WAIT_SECONDS = 0.5
"""Seconds before the second try; the wait doubles for each later try."""

QUICK_RETRY_MAX_WAIT_SECONDS = 4.0
"""Upper bound (seconds) of the exponential wait between quick tries, before jitter."""

QUICK_RETRY_JITTER_SECONDS = 0.5
"""Up to this many seconds of random jitter added to each wait between quick tries."""

MAX_HONOURED_RETRY_AFTER_SECONDS = 5.0
"""A ``Retry-After`` up to this many seconds is waited out in-call; a longer one ends the quick
tries and is returned for the job to reschedule."""

# --- outcome ---------------------------------------------------------------------------------

DETAIL_MAX_CHARS = 200
"""Longest ``Outcome.detail`` (characters): a short reason, never a response body."""

# --- sandbox receiver ------------------------------------------------------------------------

SANDBOX_HOST = "127.0.0.1"
"""Interface the sandbox receiver listens on by default (loopback only)."""

SANDBOX_PORT = 8070
"""TCP port of the sandbox receiver by default; the shipped ``addressees.yaml`` points here."""

SANDBOX_ADDRESSEES = ("panel", "secretary_of_state", "ofsted", "dfe")
"""The addressees the sandbox plays, each at ``/<addressee>``."""

SANDBOX_TIMESTAMP_TOLERANCE_SECONDS = 300
"""Seconds a ``webhook-timestamp`` may differ from the receiver's clock (the spec's 5 minutes)."""

SANDBOX_MAX_BODY_BYTES = 32 * 1024 * 1024
"""Largest request body (bytes) the sandbox accepts; more is answered 413."""

SANDBOX_POLL_INTERVAL_SECONDS = 0.05
"""Seconds between the sandbox server's shutdown checks (keeps ``stop()`` quick)."""

# Development keys: public on purpose, only ever used between this service and its own sandbox.
SANDBOX_DEV_HMAC_SECRET = "whsec_Zyey3wm4wPPzmGjAu1i+mWnIOTNZ4Hrj/iBwotWPJ/E="  # noqa: S105
"""Standard Webhooks ``v1`` (HMAC-SHA256) secret shared by the sandbox channel and receiver."""

SANDBOX_DEV_SIGNING_KEY = "whsk_JduO6q52nJKV0eawV9GkyLFlTXErZL3gPxx+6rpcd3Q="
"""Standard Webhooks ``v1a`` (Ed25519) secret key the sandbox channel signs with by default."""

SANDBOX_DEV_PUBLIC_KEY = "whpk_QSP2qUCz4D1yWvAltExOkQMKGJ6Wwq53d7Piwg8xniE="
"""The public half of :data:`SANDBOX_DEV_SIGNING_KEY`, trusted by the sandbox receiver."""
