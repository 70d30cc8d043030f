"""Open deadlines as an iCalendar feed (RFC 5545), built with the ``icalendar`` package.

Each open deadline is an all-day event on its due day (a deadline ends at midnight in London,
DESIGN.md §5, so the day is the fact, not a time), titled with the document, the addressee and
the incident reference, never a child's name; its description holds the status and the
explanation of how the day was worked out, and its URL the incident's page. The UID names the
incident, document and addressee, so it stays the same across re-plans, and ``SEQUENCE`` rises
whenever the deadline's status or due day changes (:func:`adapter.reminders.facts.sequence_of`):
a subscribed calendar updates the event in place. A deadline met leaves the feed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from icalendar import Calendar, Event

from adapter import __version__
from adapter.reminders.facts import DeadlineFact, words

PRODUCT_ID = f"-//csins-adapter//deadlines {__version__}//EN"
"""The feed's ``PRODID``."""

UID_DOMAIN = "csins-adapter"
"""The right-hand side of every event's UID (RFC 5545 suggests a domain-like suffix)."""

REFRESH_INTERVAL = dt.timedelta(hours=1)
"""How often a subscribed client should fetch the feed again (``REFRESH-INTERVAL``)."""

STATUS_WORDS = {"pending": "Pending", "due_soon": "Due soon", "overdue": "Overdue"}
"""How each open status reads in an event's description."""


def event_uid(fact: DeadlineFact) -> str:
    """Stable across re-plans: one deadline is one (incident, document, addressee) (§5)."""
    return f"{fact.incident_id}.{fact.document}.{fact.addressee}@{UID_DOMAIN}"


def build_feed(
    facts: Sequence[DeadlineFact],
    *,
    name: str,
    now: dt.datetime,
    incident_url: Callable[[str], str],
) -> bytes:
    """The feed's bytes: one all-day ``VEVENT`` per deadline in ``facts``."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH_INTERVAL)
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    for fact in facts:
        calendar.add_component(_event(fact, stamp, incident_url(fact.incident_id)))
    feed: bytes = calendar.to_ical()
    return feed


def _event(fact: DeadlineFact, stamp: dt.datetime, url: str) -> Event:
    event = Event()
    event.add("uid", event_uid(fact))
    event.add("dtstamp", stamp)
    event.add("sequence", fact.sequence)
    event.add("dtstart", fact.due)
    event.add("dtend", fact.due + dt.timedelta(days=1))
    event.add("summary", fact.title)
    event.add("description", description(fact, url))
    event.add("url", url)
    event.add("categories", [STATUS_WORDS.get(fact.status, words(fact.status)), words(fact.kind)])
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: it does not make anyone busy
    event.add("class", "CONFIDENTIAL")
    return event


def description(fact: DeadlineFact, url: str) -> str:
    """Status, kind and explanation, then the incident's page."""
    status = STATUS_WORDS.get(fact.status, words(fact.status))
    return (
        f"{status}: due by the end of {fact.due:%A %-d %B %Y} (UK time).\n"
        f"{words(fact.kind)} deadline for incident {fact.reference}.\n"
        f"{fact.explanation}\n"
        f"{url}"
    )
