"""Delivery channels: send one document to one addressee and say how it went (DESIGN.md §6).

The worker's whole use of this package::

    channel = channel_for(addressee, settings.addressees[addressee], os.environ,
                          retry=QuickRetry(tries=settings.policy.quick_tries))
    outcome = channel.send(Delivery(delivery_id=..., document=..., addressee=addressee,
                                    incident_reference=..., local_authority=..., version=...,
                                    payload=...))
    # outcome.kind: acknowledged -> receipt; transient -> reschedule (outcome.retry_after);
    # permanent -> failed, alert an admin.

Modules: ``envelope`` (what is sent, the exact bytes and hashes), ``outcome`` (classification),
``base`` (the :class:`Channel` template method), ``https`` / ``smtp`` (implementations),
``signing`` (Standard Webhooks), ``factory`` (configuration to channel), ``defaults``.
"""

from __future__ import annotations

from adapter.delivery.base import Channel, QuickRetry
from adapter.delivery.envelope import Delivery, check_envelope, encode_envelope
from adapter.delivery.errors import (
    ChannelConfigError,
    DeliveryError,
    InvalidDelivery,
    NoAnswer,
    SignatureError,
    WebhookHeaderError,
)
from adapter.delivery.factory import channel_for, sandbox_endpoint
from adapter.delivery.https import HttpsChannel, SandboxChannel
from adapter.delivery.outcome import Outcome, OutcomeKind, Reply
from adapter.delivery.smtp import SmtpChannel

__all__ = [
    "Channel",
    "ChannelConfigError",
    "Delivery",
    "DeliveryError",
    "HttpsChannel",
    "InvalidDelivery",
    "NoAnswer",
    "Outcome",
    "OutcomeKind",
    "QuickRetry",
    "Reply",
    "SandboxChannel",
    "SignatureError",
    "SmtpChannel",
    "WebhookHeaderError",
    "channel_for",
    "check_envelope",
    "encode_envelope",
    "sandbox_endpoint",
]
