"""An incident's course as a picture (issue 18): the SVG timeline, its key and its table."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree

from adapter.web.course import Mark, layout, tick_days
from tests.store.factories import CHILD_FORENAMES, CHILD_SURNAME
from tests.web.conftest import World
from tests.web.test_queues import text

SVG = re.compile(r"<svg class=\"app-course__chart\".*?</svg>", re.S)
NS = {"svg": "http://www.w3.org/2000/svg"}


def course_page(world: World) -> str:
    incident = world.incidents["812"][0]
    return text(world.client("compliance").get(f"/admin/incidents/{incident.id}"))


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
