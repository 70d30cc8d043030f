"""The daily digest (issue 18) received by a real SMTP server (aiosmtpd) on 127.0.0.1.

Each test freezes the clock (time_machine) in a London morning of its own and runs the cron
job's function in-process, as a worker would; the e-mail must list what ``GET /deadlines`` and
``GET /deliveries`` show, once a day whatever runs it how often.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from aiosmtpd.controller import Controller

from adapter.queue.local_redis import free_port
from adapter.reminders import runs
from adapter.sandbox.state import Fault
from jobs.context import build_context, use_context
from jobs.digest import send_digests
from tests.store.factories import CHILD_FORENAMES, CHILD_NHS_NUMBER, CHILD_SURNAME
from tests.support.api import API, OTHER_LA, new_record, submit
from tests.support.service import Service, hand_over_to_a_person

LONDON = ZoneInfo("Europe/London")
TUESDAY = dt.date(2026, 11, 24)
BASE_URL = "https://csins.example.test"
MAILBOXES = ["lead@la812.example.test", "support@la812.example.test"]


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


@dataclass
class Inbox:
    """An aiosmtpd handler keeping every message it accepts, with its envelope recipients."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 2.0.0 Ok: queued"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def configure(service: Service, tmp_path: Path, smtp_port: int, **extra: Any) -> None:
    """Write digest.yaml and install a worker context whose settings name it."""
    settings = {
        "send_at": "07:30",
        "base_url": BASE_URL,
        "smtp": {
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "none",
            "from": "csins@la.example.test",
        },
        "mailboxes": {"812": MAILBOXES},
        **extra,
    }
    path = tmp_path / "digest.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    environ = {**service.settings.environ, "CSINS_DIGEST_FILE": str(path)}
    use_context(build_context(service.settings.with_overrides(environ=environ), service.database))


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def section(body: str, heading: str) -> str:
    """The lines of one section of the digest (sections are separated by blank lines)."""
    found = [part for part in body.split("\n\n") if part.startswith(heading)]
    assert len(found) == 1, body
    return found[0]


def entries(section_text: str) -> list[str]:
    """A section's entries after its heading line, sorted: each its ``<day>: <title>`` line
    and the indented link under it."""
    return sorted(section_text.split("\n- ")[1:])


def expected_entry(item: dict[str, Any], references: dict[str, str], names: dict[str, str]) -> str:
    """The digest entry of one ``GET /deadlines`` item: its due day, document, addressee (by
    the name addressees.yaml gives it), incident reference and incident page; nothing else."""
    document = item["document"].replace("_", " ").capitalize()
    direction = "from" if item["document"] == "panel_response" else "to"
    due = dt.date.fromisoformat(item["due"])
    return (
        f"{due:%a %-d %b}: {document} {direction} {names[item['addressee']]}"
        f" \u2013 {references[item['incident_id']]}\n"
        f"  {BASE_URL}/admin/incidents/{item['incident_id']}"
    )


def check_the_deadline_sections(
    body: str, deadlines: list[dict[str, Any]], references: dict[str, str], names: dict[str, str]
) -> None:
    """The Overdue and Due today sections of Tuesday 24 November's digest list, entry for entry
    (due day, document, addressee, incident reference and link), the deadlines ``GET /deadlines``
    shows overdue, and pending or due soon within 5 working days; nothing more or less."""
    window_ends = dt.date(2026, 12, 1)  # 5 working days after Tuesday 24 November
    overdue = [item for item in deadlines if item["status"] == "overdue"]
    due = [
        item
        for item in deadlines
        if item["status"] in ("pending", "due_soon")
        and dt.date.fromisoformat(item["due"]) <= window_ends
    ]
    assert overdue and due, deadlines
    overdue_lines, due_lines = section(body, "Overdue"), section(body, "Due today")
    assert overdue_lines.startswith(f"Overdue: {len(overdue)}\n")
    assert entries(overdue_lines) == sorted(
        expected_entry(item, references, names) for item in overdue
    )
    assert due_lines.startswith(
        f"Due today and in the next 5 working days (to Tuesday 1 December): {len(due)}\n"
    )
    assert entries(due_lines) == sorted(expected_entry(item, references, names) for item in due)


def check_no_personal_data(message: EmailMessage) -> None:
    """Not the child's names nor NHS number, in the headers or the decoded body (the raw
    message could hide them behind a transfer encoding or a soft line break)."""
    for personal in (CHILD_FORENAMES, CHILD_SURNAME, CHILD_NHS_NUMBER):
        for text in (body_of(message), message.as_string(), str(message["Subject"])):
            assert personal.casefold() not in text.casefold()


def test_the_digest_lists_what_the_api_lists_once_a_day(
    service: Service, la_key: str, inbox: Inbox, smtp_port: int, tmp_path: Path
) -> None:
    service.sandbox.state.add_faults([Fault(addressee="ofsted", status=400)])
    with time_machine.travel(at(TUESDAY, 6), tick=False):
        late = new_record(date="2026-11-01", became_aware_on="2026-11-02")
        late["children"][0]["date_of_death"] = "2026-11-01"
        overdue = submit(service, la_key, late)
        service.work()  # Ofsted refuses for good: failed deliveries
        waiting = submit(service, la_key)  # handed over to a person: assisted submissions
        hand_over_to_a_person(service, waiting["id"])
        submit(service, service.key("local_authority", OTHER_LA), new_record(la=OTHER_LA))
        configure(service, tmp_path, smtp_port)
        assert send_digests() == 0  # before 07:30: not yet
    assert inbox.received == []

    with time_machine.travel(at(TUESDAY, 7, 35), tick=False):
        assert send_digests() == 1
        deadlines = service.get(f"{API}/deadlines", la_key, limit=200).get_json()["items"]
        deliveries = service.get(f"{API}/deliveries", la_key, limit=200).get_json()["items"]
        assert send_digests() == 0  # a second run, or a second scheduler's, sends nothing

    assert len(inbox.received) == 1
    recipients, message = inbox.received[0]
    assert sorted(recipients) == sorted(MAILBOXES)
    assert "LA 812" in message["Subject"] and message["Message-ID"]
    body = body_of(message)
    references = {incident["id"]: incident["reference"] for incident in (overdue, waiting)}
    names = {code: entry["name"] for code, entry in service.settings.addressees.items()}
    check_the_deadline_sections(body, deadlines, references, names)
    failed = [item for item in deliveries if item["status"] == "failed"]
    assert failed and section(body, "Failed deliveries").count("\n- ") == len(failed)
    assert f"{BASE_URL}/admin/deliveries?status=failed&incident={overdue['id']}" in body
    queued = [
        item
        for item in deliveries
        if item["channel"] == "csins" and item["status"] in ("queued", "retrying")
    ]
    assisted = section(body, "Assisted submissions")
    assert queued and assisted.count("\n- ") == len(queued)
    assert waiting["reference"] in assisted
    check_no_personal_data(message)
    assert "REF-813" not in body

    # A restart (a new worker context) the same day sends nothing; the next day sends again.
    with time_machine.travel(at(TUESDAY, 11), tick=False):
        configure(service, tmp_path, smtp_port)
        assert send_digests() == 0
    with time_machine.travel(at(TUESDAY + dt.timedelta(days=1), 7, 31), tick=False):
        assert send_digests() == 1
    assert len(inbox.received) == 2


def test_nothing_is_sent_when_there_is_nothing_to_say_unless_asked(
    service: Service, inbox: Inbox, smtp_port: int, tmp_path: Path
) -> None:
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        configure(service, tmp_path, smtp_port)
        assert send_digests() == 0
        with service.database.session_scope() as session:
            run = runs.run_of(session, "812", TUESDAY)
            assert run is not None and run.outcome == runs.NOTHING
    assert inbox.received == []

    with time_machine.travel(at(TUESDAY + dt.timedelta(days=1), 8), tick=False):
        configure(service, tmp_path, smtp_port, send_when_empty=True)
        assert send_digests() == 1
    body = body_of(inbox.received[0][1])
    assert "Overdue: none" in body and "Failed deliveries (fix the cause, then retry): none" in body


def test_a_mail_server_that_does_not_answer_delays_the_digest_and_loses_nothing(
    service: Service, la_key: str, smtp_port: int, tmp_path: Path
) -> None:
    with time_machine.travel(at(TUESDAY, 7, 40), tick=False):
        submit(service, la_key)
        configure(service, tmp_path, smtp_port)
        assert send_digests() == 0  # nothing listens on the port yet
        with service.database.session_scope() as session:
            run = runs.run_of(session, "812", TUESDAY)
            assert run is not None and run.sent_at is None and run.claimed_at is None
            assert run.last_error == "ConnectionRefusedError"
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with time_machine.travel(at(TUESDAY, 7, 45), tick=False):
            assert send_digests() == 1
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_a_claim_holds_the_day_until_it_expires(service: Service) -> None:
    """Two schedulers' runs at once: one claims; a claim whose job died is taken over later."""
    now = at(TUESDAY, 7, 30).astimezone(dt.UTC)
    assert runs.claim(service.database, "812", TUESDAY, now)
    assert not runs.claim(service.database, "812", TUESDAY, now)
    assert not runs.claim(service.database, "812", TUESDAY, now + runs.CLAIM_EXPIRES / 2)
    assert runs.claim(service.database, "812", TUESDAY, now + runs.CLAIM_EXPIRES)
    later = now + runs.CLAIM_EXPIRES * 3
    runs.finish(service.database, "812", TUESDAY, later, outcome=runs.SENT, items=3)
    assert not runs.claim(service.database, "812", TUESDAY, later + dt.timedelta(days=0.5))
    assert runs.claim(service.database, "813", TUESDAY, later)
