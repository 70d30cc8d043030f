"""An incident's course as a picture (issue 18): the facts of its timeline, laid out for an SVG.

One mark per fact, on the London day it happened or falls due: when the LA became aware, each
lifecycle event, each deadline (the publication limit among them), each delivery and each
acknowledgement. Each sits in a lane (the incident, its deadlines, its deliveries, their
acknowledgements) and is coloured by its status; a key names the colours present. The template
draws the SVG from :class:`Course` and lists the same facts in a table beside it, so that
nothing is told by colour or position alone. Positions are computed here, in whole pixels, so
the SVG needs no script and no inline style (the pages' CSP allows neither).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from adapter.store.models import DeliveryRow, LifecycleEventRow
from adapter.store.receipt_models import ReceiptRow
from adapter.web.formatting import words

ToDay = Callable[[dt.datetime], dt.date]
"""Turns a stored instant into the London day it fell on."""

WIDTH = 960
"""Width of the drawing (SVG user units; it scales to the page)."""

LEFT = 150
"""Room for the lane names."""

RIGHT = 24
TOP = 28
"""Room for the day labels above the lanes."""

LANE_HEIGHT = 56
"""Height of one lane; up to three marks on one day sit one above the other."""

STACK = 14
"""Vertical step between marks on the same day in one lane."""

LANES = (
    ("incident", "Incident"),
    ("deadline", "Deadlines"),
    ("delivery", "Deliveries"),
    ("acknowledgement", "Acknowledgements"),
)
"""The lanes, top to bottom, and their names."""

STATUS_NAMES = {
    "event": "Event",
    "pending": "Deadline pending",
    "due_soon": "Deadline due soon",
    "overdue": "Deadline overdue",
    "met": "Met on time",
    "met_late": "Met late",
    "queued": "Waiting to be sent",
    "sending": "Being sent",
    "retrying": "Waiting to be sent again",
    "failed": "Failed",
    "acknowledged": "Acknowledged on time",
    "acknowledged_late": "Acknowledged late",
}
"""The colour key's words for each status a mark can have (colours are in course.css)."""


@dataclass(frozen=True)
class Mark:
    """One fact: on ``day``, in ``lane``, with a ``status`` (its colour) and a ``shape``."""

    day: dt.date
    lane: str
    shape: str
    status: str
    what: str
    detail: str
    x: int = 0
    y: int = 0

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, words(self.status))


@dataclass(frozen=True)
class Tick:
    x: int
    label: str


@dataclass(frozen=True)
class Lane:
    name: str
    y: int
    middle: int


@dataclass(frozen=True)
class Course:
    """What the template draws: marks placed, lanes, day ticks, today's line and the key."""

    marks: Sequence[Mark]
    lanes: Sequence[Lane]
    ticks: Sequence[Tick]
    today_x: int | None
    width: int
    height: int
    key: Sequence[tuple[str, str]]
    first_day: dt.date
    last_day: dt.date


def facts_of(
    *,
    became_aware_on: dt.date | None,
    events: Iterable[LifecycleEventRow],
    obligations: Iterable[Mapping[str, object]],
    deliveries: Iterable[DeliveryRow],
    receipts: Mapping[str, ReceiptRow],
    names: Mapping[str, str],
    to_day: ToDay,
) -> list[Mark]:
    """Every fact of the incident as an unplaced mark, in day order, for :func:`layout`;
    ``obligations`` are the page's views (with live status), ``to_day`` turns a stored instant
    into its London date."""
    marks: list[Mark] = []
    if became_aware_on is not None:
        marks.append(
            Mark(became_aware_on, "incident", "square", "event", "Became aware", "Awareness")
        )
    for event in events:
        marks.append(Mark(event.on, "incident", "circle", "event", words(event.type), "Event"))
    for row in obligations:
        marks.append(_deadline_mark(row, names))
    for delivery in deliveries:
        marks += _delivery_marks(delivery, receipts.get(delivery.id), names, to_day)
    return sorted(marks, key=lambda mark: (mark.day, _lane_index(mark.lane), mark.what))


def _deadline_mark(row: Mapping[str, object], names: Mapping[str, str]) -> Mark:
    document, addressee = str(row["document"]), str(row["addressee"])
    due, status = row["due"], str(row["status"])
    assert isinstance(due, dt.date)
    if document == "publication":  # §8: the limit the report must be published by
        return Mark(due, "incident", "triangle", status, "Publication limit", words(status))
    direction = "from" if document == "panel_response" else "to"
    what = f"{words(document)} {direction} {names.get(addressee, words(addressee))}"
    return Mark(due, "deadline", "diamond", status, f"Due: {what}", words(status))


def _delivery_marks(
    delivery: DeliveryRow, receipt: ReceiptRow | None, names: Mapping[str, str], to_day: ToDay
) -> list[Mark]:
    what = f"{words(delivery.document)} to {names.get(delivery.addressee, delivery.addressee)}"
    sent = delivery.first_attempt_at or delivery.created_at
    attempts = f"{delivery.attempts} attempt{'' if delivery.attempts == 1 else 's'}"
    marks = [
        Mark(
            to_day(sent),
            "delivery",
            "circle",
            delivery.status,
            f"Sent: {what} (version {delivery.version})",
            f"{words(delivery.status)}, {attempts}",
        )
    ]
    if delivery.acknowledged_at is not None:
        late = receipt is not None and not receipt.on_time
        marks.append(
            Mark(
                to_day(delivery.acknowledged_at),
                "acknowledgement",
                "circle",
                "acknowledged_late" if late else "acknowledged",
                f"Acknowledged: {what}",
                (f"Receipt {receipt.sequence}" if receipt else "Acknowledged")
                + (", late" if late else ""),
            )
        )
    return marks


def layout(marks: Sequence[Mark], today: dt.date) -> Course:
    """Place the marks on a day axis that spans them and today, with a few days' margin."""
    days = [mark.day for mark in marks] or [today]
    first = min(days) - dt.timedelta(days=2)
    last = max([*days, today]) + dt.timedelta(days=2)
    span = max((last - first).days, 1)
    plot = WIDTH - LEFT - RIGHT

    def x_of(day: dt.date) -> int:
        return LEFT + round((day - first).days * plot / span)

    lanes = [
        Lane(name, TOP + index * LANE_HEIGHT, TOP + index * LANE_HEIGHT + LANE_HEIGHT // 2)
        for index, (_, name) in enumerate(LANES)
    ]
    stacked: dict[tuple[str, dt.date], int] = {}
    placed = []
    for mark in marks:
        lane = lanes[_lane_index(mark.lane)]
        position = stacked.get((mark.lane, mark.day), 0)
        stacked[mark.lane, mark.day] = position + 1
        offset = (0, -STACK, STACK)[position % 3]
        placed.append(_placed(mark, x_of(mark.day), lane.middle + offset))
    present = dict.fromkeys(mark.status for mark in marks)
    return Course(
        marks=placed,
        lanes=lanes,
        ticks=[Tick(x_of(day), f"{day:%-d %b}") for day in tick_days(first, last)],
        today_x=x_of(today),
        width=WIDTH,
        height=TOP + len(LANES) * LANE_HEIGHT + 8,
        key=[(status, STATUS_NAMES.get(status, words(status))) for status in present],
        first_day=first,
        last_day=last,
    )


def tick_days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Days to label: Mondays over a few weeks, the 1st of months over a few months, quarters
    beyond, so that at most a dozen or so labels share the axis."""
    span = (last - first).days
    if span <= 70:
        step = 7 if span > 14 else 1
        day = first + dt.timedelta(days=(7 - first.weekday()) % 7 if step == 7 else 0)
        found = []
        while day <= last:
            found.append(day)
            day += dt.timedelta(days=step)
        return found
    months = 1 if span <= 400 else 3
    day = dt.date(first.year, first.month, 1)
    found = []
    while day <= last:
        if day >= first and (day.month - 1) % months == 0:
            found.append(day)
        day = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return found


def _placed(mark: Mark, x: int, y: int) -> Mark:
    return Mark(mark.day, mark.lane, mark.shape, mark.status, mark.what, mark.detail, x, y)


def _lane_index(lane: str) -> int:
    return [code for code, _ in LANES].index(lane)
