"""The one base class of delivery channels: a template method around one abstract call.

:meth:`Channel.send` builds the bytes once, makes up to ``quick_tries`` tries of
:meth:`Channel._transmit` (exponential backoff with jitter; a short ``Retry-After`` is waited
out, a long one ends the tries), classifies the answer, times it and logs it without personal
data. A channel implementation only says how to put bytes in front of an addressee and what the
addressee answered (a :class:`Reply`), or raises :class:`NoAnswer`. Which implementation runs is
chosen by configuration (:func:`adapter.delivery.factory.channel_for`), never by a test flag.
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from adapter.clock import utcnow
from adapter.delivery import defaults
from adapter.delivery.envelope import Delivery, encode_envelope, sha256_hex
from adapter.delivery.errors import InvalidDelivery, NoAnswer
from adapter.delivery.outcome import (
    Outcome,
    OutcomeKind,
    Reply,
    classify_http_status,
    short_detail,
)

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
"""Returns the current time, aware UTC (injectable for tests)."""

Sleep = Callable[[float], None]
"""Waits the given seconds (injectable so tests do not sleep)."""


@dataclass(frozen=True)
class QuickRetry:
    """How the tries inside one send are spaced (DESIGN.md §6: tenacity, backoff with jitter)."""

    tries: int = defaults.QUICK_TRIES
    """Tries in all, the first included (``Policy.quick_tries``)."""
    initial_wait: float = defaults.QUICK_RETRY_INITIAL_WAIT_SECONDS
    """Seconds before the second try; doubled for each later one."""
    max_wait: float = defaults.QUICK_RETRY_MAX_WAIT_SECONDS
    """Seconds at most between tries (before jitter)."""
    jitter: float = defaults.QUICK_RETRY_JITTER_SECONDS
    """Up to this many random seconds added to each wait."""
    max_retry_after: float = defaults.MAX_HONOURED_RETRY_AFTER_SECONDS
    """A longer ``Retry-After`` (seconds) ends the tries: the job reschedules instead."""
    sleep: Sleep = time.sleep
    """How to wait; tests pass a function that only records."""


@dataclass(frozen=True)
class _Try:
    """One classified try."""

    kind: OutcomeKind
    status: int | None
    reference: str | None
    retry_after: float | None
    detail: str


class Channel(abc.ABC):
    """Sends a :class:`Delivery` to one addressee and says how it went, as an :class:`Outcome`."""

    name: ClassVar[str]
    """The channel's name in ``addressees.yaml`` (``https``, ``smtp``, ``sandbox``)."""

    def __init__(
        self,
        addressee: str,
        destination: str,
        *,
        retry: QuickRetry | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.addressee = addressee
        self.destination = destination
        self.retry = retry or QuickRetry()
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.addressee!r}, {self.destination!r})"

    # --- the template method -----------------------------------------------------------------

    def send(self, delivery: Delivery) -> Outcome:
        """Send ``delivery``, retrying quickly while transient; never raises for a refusal.

        Raises only for a delivery that cannot be sent at all (:class:`InvalidDelivery`) or a
        bug; every answer or silence of the addressee comes back as an :class:`Outcome`.
        """
        if delivery.addressee != self.addressee:
            raise InvalidDelivery(
                f"delivery {delivery.delivery_id} is for {delivery.addressee}, not {self.addressee}"
            )
        body = self.encode(delivery)
        tries = 0

        def one_try() -> _Try:
            nonlocal tries
            tries += 1
            return self._try(delivery, body)

        started_at = self._clock()
        started = time.monotonic()
        last = self._retrying(delivery)(one_try)
        elapsed = time.monotonic() - started
        outcome = Outcome(
            kind=last.kind,
            channel=self.name,
            destination=self.destination,
            status=last.status,
            reference=last.reference,
            retry_after=last.retry_after,
            detail=last.detail,
            sent_sha256=sha256_hex(body),
            sent_bytes=len(body),
            tries=tries,
            started_at=started_at,
            finished_at=self._clock(),
        )
        self._log(delivery, outcome, elapsed)
        return outcome

    # --- what an implementation provides -----------------------------------------------------

    def encode(self, delivery: Delivery) -> bytes:
        """The exact bytes to send, built once per send: by default the canonical envelope."""
        return encode_envelope(delivery)

    def classify(self, status: int) -> OutcomeKind:
        """Classify a status or reply code: HTTP rules unless a channel says otherwise."""
        return classify_http_status(status)

    def close(self) -> None:  # noqa: B027 (a hook: most channels keep nothing open)
        """Release what the channel keeps open between sends (by default nothing)."""

    @abc.abstractmethod
    def _transmit(self, delivery: Delivery, body: bytes) -> Reply:
        """Put ``body`` in front of the addressee once and return its answer.

        Raise :class:`NoAnswer` when there is none (timeout, connection refused or reset).
        """

    # --- the machinery -----------------------------------------------------------------------

    def _try(self, delivery: Delivery, body: bytes) -> _Try:
        try:
            reply = self._transmit(delivery, body)
        except NoAnswer as silence:
            return _Try(OutcomeKind.TRANSIENT, None, None, None, short_detail(silence.detail))
        kind = self.classify(reply.status)
        return _Try(
            kind=kind,
            status=reply.status,
            reference=reply.reference if kind is OutcomeKind.ACKNOWLEDGED else None,
            retry_after=reply.retry_after if kind is OutcomeKind.TRANSIENT else None,
            detail=short_detail(reply.detail or str(reply.status)),
        )

    def _retrying(self, delivery: Delivery) -> Retrying:
        policy = self.retry
        backoff = wait_exponential(
            multiplier=policy.initial_wait, max=policy.max_wait
        ) + wait_random(0, policy.jitter)

        def last_try(state: RetryCallState) -> _Try:
            assert state.outcome is not None
            result: _Try = state.outcome.result()
            return result

        def worth_another(state: RetryCallState) -> bool:
            if state.outcome is None or state.outcome.failed:
                return False  # a bug: let it reach the caller
            result = last_try(state)
            return result.kind is OutcomeKind.TRANSIENT and (
                result.retry_after is None or result.retry_after <= policy.max_retry_after
            )

        def wait(state: RetryCallState) -> float:
            return max(backoff(state), last_try(state).retry_after or 0.0)

        def before_sleep(state: RetryCallState) -> None:
            result = last_try(state)
            log.info(
                "delivery %s to %s: try %d %s (%s), trying again",
                delivery.delivery_id,
                self.addressee,
                state.attempt_number,
                result.kind.value,
                result.detail,
                extra={
                    "delivery_id": delivery.delivery_id,
                    "addressee": self.addressee,
                    "document": delivery.document,
                    "try": state.attempt_number,
                    "status": result.status,
                },
            )

        return Retrying(
            stop=stop_after_attempt(policy.tries),
            retry=worth_another,
            wait=wait,
            sleep=policy.sleep,
            before_sleep=before_sleep,
            retry_error_callback=last_try,
        )

    def _log(self, delivery: Delivery, outcome: Outcome, elapsed: float) -> None:
        level = {
            OutcomeKind.ACKNOWLEDGED: logging.INFO,
            OutcomeKind.TRANSIENT: logging.WARNING,
            OutcomeKind.PERMANENT: logging.ERROR,
        }[outcome.kind]
        log.log(
            level,
            "delivery %s of %s to %s via %s: %s, status %s, %d tries, %.3f s (%s)",
            delivery.delivery_id,
            delivery.document,
            self.addressee,
            self.name,
            outcome.kind.value,
            outcome.status,
            outcome.tries,
            elapsed,
            outcome.detail,
            extra={
                "delivery_id": delivery.delivery_id,
                "addressee": self.addressee,
                "document": delivery.document,
                "channel": self.name,
                "kind": outcome.kind.value,
                "status": outcome.status,
                "tries": outcome.tries,
                "duration_ms": round(elapsed * 1000),
                "sent_sha256": outcome.sent_sha256,
            },
        )
