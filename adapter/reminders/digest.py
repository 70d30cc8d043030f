"""The morning digest of one LA (issue 18): what is due this week, overdue, waiting or failed.

Four lists, each line a reference with a link to its page: deadlines due today and in the next
5 working days, overdue deadlines, open assisted submissions and failed deliveries. References
only: the incident reference, document, addressee and day, never a child's details, so the
e-mail can go to a team mailbox. The deadlines are those ``GET /deadlines`` lists as open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy.orm import Session

from adapter.clock import london_today
from adapter.deadlines import calendar_for
from adapter.reminders import facts
from adapter.reminders.facts import DeadlineFact, DeliveryFact
from adapter.reminders.mailer import DigestSettings
from config.settings import Policy

WINDOW_WORKING_DAYS = 5
"""The digest lists deadlines due today and in this many working days after today."""


@dataclass(frozen=True)
class Digest:
    """One LA's digest for one London day."""

    la_code: str
    day: dt.date
    window_ends: dt.date
    due: Sequence[DeadlineFact]
    overdue: Sequence[DeadlineFact]
    assisted: Sequence[DeliveryFact]
    failed: Sequence[DeliveryFact]

    @property
    def items(self) -> int:
        return len(self.due) + len(self.overdue) + len(self.assisted) + len(self.failed)


def gather(
    session: Session, la_code: str, now: dt.datetime, policy: Policy, names: Mapping[str, str]
) -> Digest:
    """The LA's digest at ``now``: read in one transaction, so its lists agree."""
    today = london_today(now)
    window_ends = calendar_for(policy).add_working_days(today, WINDOW_WORKING_DAYS).result
    open_deadlines = facts.open_deadlines(session, la_code, now, policy, names)
    return Digest(
        la_code=la_code,
        day=today,
        window_ends=window_ends,
        due=[fact for fact in open_deadlines if today <= fact.due <= window_ends],
        overdue=[fact for fact in open_deadlines if fact.due < today],
        assisted=facts.open_assisted_submissions(session, la_code, names),
        failed=facts.failed_deliveries(session, la_code, names),
    )


def subject(digest: Digest) -> str:
    counts = [
        f"{len(digest.overdue)} overdue",
        f"{len(digest.due)} due by {digest.window_ends:%a %-d %b}",
        f"{len(digest.assisted)} to submit",
        f"{len(digest.failed)} failed",
    ]
    return f"Safeguarding deadlines, LA {digest.la_code}, {digest.day:%A %-d %B %Y}: " + (
        ", ".join(counts)
    )


def compose(
    digest: Digest, settings: DigestSettings, recipients: Sequence[str], now: dt.datetime
) -> EmailMessage:
    """The e-mail: plain text, one section per list, every line linked to its page."""
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = settings.sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now.astimezone(dt.UTC))
    message["Message-ID"] = make_msgid("digest", domain=settings.sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(body(digest, settings.base_url))
    return message


def body(digest: Digest, base_url: str) -> str:
    """The digest's text: references and links only."""
    incident = f"{base_url}/admin/incidents/"
    sections = [
        f"Safeguarding incident deadlines for local authority {digest.la_code}, "
        f"{digest.day:%A %-d %B %Y}. Each deadline ends at midnight UK time on its due day.",
        _deadlines("Overdue", digest.overdue, incident),
        _deadlines(
            f"Due today and in the next {WINDOW_WORKING_DAYS} working days "
            f"(to {digest.window_ends:%A %-d %B})",
            digest.due,
            incident,
        ),
        _deliveries(
            "Assisted submissions to make on the national service",
            digest.assisted,
            lambda fact: f"{incident}{fact.incident_id}",
        ),
        _deliveries(
            "Failed deliveries (fix the cause, then retry)",
            digest.failed,
            lambda fact: f"{base_url}/admin/deliveries?status=failed&incident={fact.incident_id}",
        ),
        f"All deadlines: {base_url}/admin/deadlines",
    ]
    return "\n\n".join(sections) + "\n"


def _deadlines(heading: str, found: Sequence[DeadlineFact], incident_url: str) -> str:
    lines = [f"{heading}: {len(found)}"]
    lines += [
        f"- {fact.due:%a %-d %b}: {fact.title}\n  {incident_url}{fact.incident_id}"
        for fact in found
    ]
    return "\n".join(lines) if found else f"{heading}: none"


def _deliveries(
    heading: str, found: Sequence[DeliveryFact], link: Callable[[DeliveryFact], str]
) -> str:
    if not found:
        return f"{heading}: none"
    lines = [f"{heading}: {len(found)}"]
    for fact in found:
        due = f" (due {fact.due:%a %-d %b})" if fact.due else ""
        lines.append(f"- {fact.title}{due}\n  {link(fact)}")
    return "\n".join(lines)
