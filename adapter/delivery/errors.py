"""Errors of the delivery package, under the service's one base::

    CsinsError
    └── DeliveryError             something about a delivery or a channel (context: addressee)
        ├── InvalidDelivery           a Delivery value that cannot be sent (e.g. a bad id)
        ├── ChannelConfigError        an addressee's channel settings are missing or malformed
        │   ├── MissingCredential         a credential's env var is named but not set
        │   └── RouteConfigError          addressees.yaml names an unknown document, channel...
        ├── NoAnswer                  no answer: timeout, connection refused or reset (transient)
        └── SignatureError            a Standard Webhooks signature or key does not verify
            └── WebhookHeaderError        a webhook header is missing or malformed, or stale

A delivery that the addressee refuses or cannot take is *not* an exception: it is an
:class:`~adapter.delivery.outcome.Outcome` of kind ``transient`` or ``permanent``.
"""

from __future__ import annotations

from adapter.errors import CsinsError


class DeliveryError(CsinsError):
    """Base of the delivery package's errors."""


class InvalidDelivery(DeliveryError):
    """A :class:`~adapter.delivery.envelope.Delivery` that cannot be sent as it is."""


class UnreadablePayload(InvalidDelivery):
    """The stored payload cannot be decrypted or fails its hash: nothing can be sent."""


class ChannelConfigError(DeliveryError):
    """An addressee's channel configuration is wrong; the message names the addressee and key."""

    def __init__(self, addressee: str, message: str) -> None:
        self.addressee = addressee
        self.reason = message
        super().__init__(f"addressees.yaml: {addressee}: {message}")


class MissingCredential(ChannelConfigError):
    """A setting names an environment variable that is not set where the channel is built."""


class NoAnswer(DeliveryError):
    """The addressee could not be reached or did not answer in time.

    Raised by a channel's one call; the base class turns it into a transient outcome.
    """

    def __init__(self, detail: str, *, timed_out: bool = False) -> None:
        self.detail = detail
        self.timed_out = timed_out
        super().__init__(detail)


class SignatureError(DeliveryError):
    """A webhook signature, header or key is missing, malformed or does not verify."""


class WebhookHeaderError(SignatureError):
    """A ``webhook-*`` header is missing or malformed, or the timestamp is outside the tolerance."""


class RouteConfigError(ChannelConfigError):
    """``addressees.yaml`` names an unknown addressee, document, channel or key, or a route its
    channel cannot carry; the message names it."""
