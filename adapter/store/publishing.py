"""What a transaction leaves to publish once it has committed: the one after-commit step.

A use case that queues a delivery (or an import) writes its row and notes a
:class:`Publication` in the session; when the transaction commits, the database hands every
note to its :class:`Publisher` (RQ in the service, given by the composition root), and a
rollback drops them. So the API, the pages and the jobs never enqueue on their own, and
nothing is published that was not committed. Publishing is best-effort: the row is the truth,
and the sweeper enqueues whatever a publisher could not (DESIGN.md §2).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_KEY = "csins.publications"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Publication:
    """One piece of work to put on a queue: a delivery's try, or an import to run."""

    kind: Literal["delivery", "import"]
    id: str
    addressee: str = ""
    attempts: int = 0
    """The try to enqueue (a delivery retried by hand follows the tries already made)."""
    new: bool = False
    """Created by this transaction: no job of it can exist yet but a sweep's (see
    :func:`adapter.queue.enqueue_delivery`)."""
    at: dt.datetime | None = None
    """When the try is due, if later than now: a retry after a transient failure waits for it
    on RQ's scheduler."""


class Publisher(Protocol):
    """Puts committed work on the queues; must not raise (errors are logged)."""

    def publish(self, publications: Sequence[Publication]) -> None: ...


class NoPublisher:
    """Publishes nothing: the sweeper enqueues the work when it is due (tools and tests that
    run no queue)."""

    def publish(self, publications: Sequence[Publication]) -> None:
        if publications:
            log.debug("%d publications left to the sweeper", len(publications))


class Alongside:
    """A publisher handing each commit's publications to a thread of its own, so that a batch
    writer goes on with its next batch while the last one's jobs are put on the queues (an
    import's deliveries: thousands of Redis round trips). Still after each commit, in order;
    :meth:`close` waits for the last."""

    def __init__(self, inner: Publisher) -> None:
        self.inner = inner
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csins-publish")

    def publish(self, publications: Sequence[Publication]) -> None:
        self._pool.submit(self._publish, list(publications))

    def _publish(self, publications: list[Publication]) -> None:
        try:
            self.inner.publish(publications)
        except Exception:  # a publisher must not raise; the sweeper enqueues what it did not
            log.exception("publishing %d jobs failed (the sweeper will)", len(publications))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def publish_after_commit(session: Session, publication: Publication) -> None:
    """Note ``publication`` to be published when the session's transaction commits."""
    session.info.setdefault(_KEY, []).append(publication)


def pending(session: Session) -> list[Publication]:
    """The publications noted in the session's transaction so far (a batch that rolls back a
    savepoint truncates this list to what it held before)."""
    found: list[Publication] = session.info.setdefault(_KEY, [])
    return found


def install(factory: sessionmaker[Session], publisher: Callable[[], Publisher]) -> None:
    """Publish through ``publisher()`` after each commit of ``factory``'s sessions."""

    def after_commit(session: Session) -> None:
        publications = session.info.pop(_KEY, None)
        if publications:
            publisher().publish(publications)

    def after_rollback(session: Session) -> None:
        session.info.pop(_KEY, None)

    listeners: dict[str, Any] = {"after_commit": after_commit, "after_rollback": after_rollback}
    for name, listener in listeners.items():
        event.listen(factory, name, listener)
