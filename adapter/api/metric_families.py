"""What ``/metrics`` counts (DESIGN.md §7, issue 18), as ``prometheus_client`` metric families.

Every family is read from the database at scrape time, scoped to the key's LA like every other
query: the web, worker and scheduler processes then need no shared metrics state, and a key
never learns anything of another LA, not even how many records it has. Counts and durations
only, never personal data.

- ``csins_deliveries{addressee,status}``: deliveries by addressee and status;
- ``csins_deadlines{status}``: deadlines by stored status;
- ``csins_submission_latency_seconds``: from a delivery's creation (the submission or event
  that owed it) to its acknowledgement, over acknowledged deliveries;
- ``csins_delivery_attempt_seconds``: how long each finished try at sending took;
- ``csins_open_assisted_submissions{addressee}``: deliveries waiting for a person to submit
  them on the national service (:func:`adapter.reminders.facts.open_assisted_counts`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapter.reminders.facts import open_assisted_counts
from adapter.store.models import DeliveryAttemptRow, DeliveryRow, ObligationRow
from adapter.store.scope import scoped

SUBMISSION_LATENCY_BUCKETS = (1, 5, 30, 60, 300, 1800, 3600, 6 * 3600, 86400, 5 * 86400)
"""Upper bounds (seconds) of the submission latency histogram: seconds to working days."""

ATTEMPT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60)
"""Upper bounds (seconds) of the delivery attempt histogram (a try times out after 20-30 s)."""


class ScopedCollector(Collector):
    """The families of one LA scope, read through ``session`` when collected."""

    def __init__(self, session: Session, la_scope: str) -> None:
        self.session, self.la_scope = session, la_scope

    def collect(self) -> Iterator[Metric]:
        yield self._deliveries()
        yield self._deadlines()
        yield histogram(
            "csins_submission_latency_seconds",
            "Seconds from a delivery's creation to its acknowledgement",
            self._submission_latencies(),
            SUBMISSION_LATENCY_BUCKETS,
        )
        yield histogram(
            "csins_delivery_attempt_seconds",
            "Seconds each finished try at sending a delivery took",
            self._attempt_durations(),
            ATTEMPT_BUCKETS,
        )
        yield self._assisted()

    def _deliveries(self) -> Metric:
        family = GaugeMetricFamily(
            "csins_deliveries", "Deliveries by addressee and status", labels=["addressee", "status"]
        )
        statement = select(DeliveryRow.addressee, DeliveryRow.status, func.count()).group_by(
            DeliveryRow.addressee, DeliveryRow.status
        )
        for addressee, status, count in self.session.execute(
            scoped(statement, DeliveryRow.la_code, self.la_scope)
        ):
            family.add_metric([addressee, status], count)
        return family

    def _deadlines(self) -> Metric:
        family = GaugeMetricFamily(
            "csins_deadlines", "Deadlines by stored status", labels=["status"]
        )
        statement = select(ObligationRow.status, func.count()).group_by(ObligationRow.status)
        for status, count in self.session.execute(
            scoped(statement, ObligationRow.la_code, self.la_scope)
        ):
            family.add_metric([status], count)
        return family

    def _assisted(self) -> Metric:
        family = GaugeMetricFamily(
            "csins_open_assisted_submissions",
            "Deliveries waiting for a person to submit them on the national service",
            labels=["addressee"],
        )
        for addressee, count in sorted(open_assisted_counts(self.session, self.la_scope).items()):
            family.add_metric([addressee], count)
        return family

    def _submission_latencies(self) -> list[float]:
        statement = select(DeliveryRow.created_at, DeliveryRow.acknowledged_at).where(
            DeliveryRow.acknowledged_at.is_not(None)
        )
        rows = self.session.execute(scoped(statement, DeliveryRow.la_code, self.la_scope))
        return [seconds(created, done) for created, done in rows if done is not None]

    def _attempt_durations(self) -> list[float]:
        statement = (
            select(DeliveryAttemptRow.started_at, DeliveryAttemptRow.finished_at)
            .join(DeliveryRow, DeliveryRow.id == DeliveryAttemptRow.delivery_id)
            .where(DeliveryAttemptRow.finished_at.is_not(None))
        )
        rows = self.session.execute(scoped(statement, DeliveryRow.la_code, self.la_scope))
        return [seconds(started, finished) for started, finished in rows if finished is not None]


def seconds(start: dt.datetime, end: dt.datetime) -> float:
    """Seconds from ``start`` to ``end`` (never negative: clocks of two machines may differ)."""
    return max((end - start).total_seconds(), 0.0)


def histogram(
    name: str, documentation: str, values: Iterable[float], buckets: Sequence[float]
) -> HistogramMetricFamily:
    """A histogram family of ``values`` with cumulative ``buckets`` (and ``+Inf``)."""
    observed = sorted(values)
    cumulative = [
        (_bound(bound), float(sum(1 for value in observed if value <= bound))) for bound in buckets
    ]
    cumulative.append(("+Inf", float(len(observed))))
    return HistogramMetricFamily(name, documentation, buckets=cumulative, sum_value=sum(observed))


def _bound(bound: float) -> str:
    return str(float(bound))
