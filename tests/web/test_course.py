"""An incident's course as a picture (issue 18): the SVG timeline, its key and its table."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from xml.etree import ElementTree

import pytest

from adapter.web.course import Mark, layout, tick_days
from tests.store.factories import CHILD_FORENAMES, CHILD_SURNAME
from tests.support.api import API, LOCAL_REVIEW, document_event, plain_event, post_event
from tests.web.conftest import World
from tests.web.test_queues import plain, text

SVG = re.compile(r"<svg class=\"app-course__chart\".*?</svg>", re.S)
NS = {"svg": "http://www.w3.org/2000/svg"}


def course_page(world: World) -> str:
    incident = world.incidents["812"][0]
    return text(world.client("compliance").get(f"/admin/incidents/{incident.id}"))


def course_rows(page: str) -> list[tuple[str, ...]]:
    """The course table's rows as (day, lane, what, detail, status), in words."""
    table = page[page.index("The incident\u2019s course, day by day") :]
    body = table[table.index("<tbody") : table.index("</tbody>")]
    rows = re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", body, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [
        tuple(plain(part).strip() for cell in row for part in cell.split("<br>")) for row in cells
    ]


def london(day: dt.date) -> str:
    """A day as the page writes it: ``25 May 2027``."""
    return f"{day.day} {day:%B %Y}"


def test_the_incident_page_draws_every_fact_and_lists_it_beside(world: World) -> None:
    page = course_page(world)
    svg = ElementTree.fromstring(SVG.search(page).group())
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "course-title course-desc"
    marks = svg.findall("svg:g", NS)
    titles = [mark.find("svg:title", NS).text for mark in marks]
    table = page[page.index("The incident\u2019s course, day by day") :]
    rows = table[: table.index("</table>")].count('<tr class="govuk-table__row">') - 1
    assert len(marks) == rows > 0
    # Awareness, the deadlines (4 for the sample), deliveries (3) and the two acknowledged.
    assert any(t.startswith("23 November 2026: Became aware") for t in titles)
    assert sum("Due: " in t for t in titles) == 4
    assert sum("Sent: " in t for t in titles) == 3
    assert sum("Acknowledged: " in t for t in titles) == 2
    classes = {mark.get("class").split("--")[1] for mark in marks}
    assert {"failed", "acknowledged", "event"} <= classes  # Ofsted refused for good
    key = page[page.index('aria-label="Colour key"') :]
    for status, words in (("failed", "Failed"), ("acknowledged", "Acknowledged on time")):
        assert status in classes and words in key[: key.index("</ul>")]
    assert CHILD_FORENAMES not in page and CHILD_SURNAME not in page


def test_the_page_prints_as_the_incidents_record(world: World) -> None:
    page = course_page(world)
    assert "/admin/static/course.css" in page
    assert "Compliance record of incident" in page
    response = world.service.client.get("/admin/static/course.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "@media print" in css and "print-color-adjust: exact" in css


def test_marks_on_one_day_stack_and_today_is_on_the_axis() -> None:
    day = dt.date(2026, 11, 23)
    marks = [Mark(day, "deadline", "diamond", "pending", f"Due {n}", "") for n in range(3)]
    drawn = layout(marks, today=dt.date(2026, 12, 7))
    assert len({mark.y for mark in drawn.marks}) == 3
    assert len({mark.x for mark in drawn.marks}) == 1
    assert drawn.marks[0].x < drawn.today_x < drawn.width
    assert drawn.key == [("pending", "Deadline pending")]


def test_ticks_suit_the_span() -> None:
    assert [d.weekday() for d in tick_days(dt.date(2026, 11, 1), dt.date(2026, 12, 31))] == [0] * 9
    months = tick_days(dt.date(2026, 11, 20), dt.date(2027, 6, 1))
    assert [d.day for d in months] == [1] * 7
    quarters = tick_days(dt.date(2026, 1, 5), dt.date(2028, 1, 1))
    assert {d.month for d in quarters} == {1, 4, 7, 10}


PUBLICATION_CASES: dict[str, tuple[list[tuple[str, int, dict[str, Any]]], str | None]] = {
    # case: (events as (type, days before today, fields), the limit's status, None for no limit)
    "decided on a local review: the limit is 6 months off": (
        [("rapid_review_completed", 3, {}), ("lcspr_decided", 2, LOCAL_REVIEW)],
        "pending",
    ),
    "published: the limit is met": (
        [
            ("rapid_review_completed", 3, {}),
            ("lcspr_decided", 2, LOCAL_REVIEW),
            ("publication_scheduled", 1, {"publication_date": 0, "mode": "full_report"}),
            ("published", 0, {"url": "https://example.org/lcspr"}),
        ],
        "met",
    ),
    "decided to publish nothing: no limit": (
        [
            ("rapid_review_completed", 3, {}),
            ("lcspr_decided", 2, LOCAL_REVIEW),
            ("publication_decided", 1, {"publish": "none"}),
        ],
        None,
    ),
}


def record_events(
    world: World, incident_id: str, today: dt.date, events: list[tuple[str, int, dict[str, Any]]]
) -> None:
    """POST each event through the API as the LA, on ``today`` less its days (as is any
    ``publication_date``, given there in days before today)."""
    key = world.key("local_authority", "812")
    for kind, days_before, fields in events:
        on = (today - dt.timedelta(days=days_before)).isoformat()
        fields = dict(fields)
        if "publication_date" in fields:
            fields["publication_date"] = (
                today - dt.timedelta(days=fields["publication_date"])
            ).isoformat()
        made = (plain_event if kind == "published" else document_event)(kind, on=on, **fields)
        post_event(world.service, key, incident_id, made)


@pytest.mark.parametrize("case", sorted(PUBLICATION_CASES))
def test_the_publication_limit_is_drawn_and_listed(world: World, today: dt.date, case: str) -> None:
    """§8's publication limit: a triangle in the Incident lane, coloured by its status, and the
    same day, lane and status in the table; no mark once the partners decide to publish nothing."""
    events, status = PUBLICATION_CASES[case]
    incident = world.incidents["812"][0]
    record_events(world, incident.id, today, events)
    owed = world.service.get(
        f"{API}/deadlines", world.key("compliance", "812"), incident=incident.id
    ).get_json()["items"]
    limits = [item for item in owed if item["document"] == "publication"]
    page = course_page(world)
    svg = ElementTree.fromstring(SVG.search(page).group())
    marks = [
        g for g in svg.findall("svg:g", NS) if "Publication limit" in g.find("svg:title", NS).text
    ]
    rows = [row for row in course_rows(page) if row[2] == "Publication limit"]
    if status is None:
        assert limits == [] and marks == [] and rows == []
        return
    (limit,) = limits
    due = dt.date.fromisoformat(limit["due"])
    decided = today - dt.timedelta(days=2)  # §8: published within 6 months of the decision
    months = decided.month - 1 + 6
    assert due == decided.replace(year=decided.year + months // 12, month=months % 12 + 1)
    assert limit["status"] == status
    (mark,) = marks
    name = {"pending": "Deadline pending", "met": "Met on time"}[status]
    assert mark.find("svg:title", NS).text == f"{london(due)}: Publication limit ({name})"
    assert mark.get("class") == f"app-course__mark app-course__mark--{status}"
    points = [
        tuple(map(int, p.split(","))) for p in mark.find("svg:polygon", NS).get("points").split()
    ]
    incident_lane = svg.findall("svg:rect", NS)[0]
    top, height = int(incident_lane.get("y")), int(incident_lane.get("height"))
    assert len(points) == 3 and all(top <= y <= top + height for _, y in points)  # a triangle
    assert rows == [(london(due), "Incident", "Publication limit", status.title(), name)]
