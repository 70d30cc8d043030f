"""§2: the death of a looked-after child or a care leaver is what is notified to the Secretary
of State and Ofsted, so its clock cannot start before the child died: it runs from the later of
``became_aware_on`` and the death. The Panel's notification of the serious harm still runs from
awareness (§2 "within five working days of safeguarding partners becoming aware")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.deadlines.plan import plan_incident
from config.settings import Policy
from tests.rules.factories import load_events, load_record, make_child, make_record

D = dt.date.fromisoformat
HARMED_ON = {"date": "2026-11-02", "became_aware_on": "2026-11-02"}
NOT_ABUSE = {"abuse_or_neglect": "not_known_or_suspected"}
CARE_LEAVER = {"care_leaver": True, "date_of_birth": "2006-01-01"}

# name: (record, document, due, trigger, explanation)
CASES: dict[str, tuple[dict[str, Any], str, str, str, str]] = {
    "s2_looked_after_child_harmed_then_died_after_awareness": (
        make_record(make_child(looked_after=True, date_of_death="2026-11-20"), **HARMED_ON),
        "looked_after_child_death_notification",
        "2026-11-27",
        "date_of_death",
        "5 working days after 2026-11-20 (the child's death, which came after the local "
        "authority became aware)",
    ),
    "s2_looked_after_child_died_before_awareness": (
        make_record(make_child(looked_after=True)),
        "looked_after_child_death_notification",
        "2026-11-30",
        "became_aware_on",
        "5 working days after 2026-11-23 (became aware)",
    ),
    "s2_looked_after_child_died_on_the_day_of_awareness": (
        make_record(make_child(looked_after=True, date_of_death="2026-11-02"), **HARMED_ON),
        "looked_after_child_death_notification",
        "2026-11-09",
        "became_aware_on",
        "5 working days after 2026-11-02 (became aware)",
    ),
    "s2_date_of_death_not_known_counts_from_awareness": (
        make_record(make_child(looked_after=True, date_of_death=None), **HARMED_ON),
        "looked_after_child_death_notification",
        "2026-11-09",
        "became_aware_on",
        "5 working days after 2026-11-02 (became aware)",
    ),
    "s2_the_first_of_two_looked_after_deaths_starts_the_clock": (
        make_record(
            make_child(looked_after=True, date_of_death="2026-11-20"),
            make_child(looked_after=True, date_of_death="2026-11-05", forenames="Alex"),
            **HARMED_ON,
        ),
        "looked_after_child_death_notification",
        "2026-11-12",
        "date_of_death",
        "5 working days after 2026-11-05 (the child's death, which came after the local "
        "authority became aware)",
    ),
    "s2_care_leaver_harmed_then_died_after_awareness": (
        make_record(
            make_child(date_of_death="2026-11-20", **CARE_LEAVER), **HARMED_ON, **NOT_ABUSE
        ),
        "care_leaver_death_notification",
        "2026-11-27",
        "date_of_death",
        "5 working days after 2026-11-20 (the child's death, which came after the local "
        "authority became aware)",
    ),
}


@pytest.mark.parametrize(
    ("raw", "document", "due", "trigger", "explanation"), list(CASES.values()), ids=list(CASES)
)
def test_death_notification_runs_from_the_death_when_it_came_after_awareness(
    raw: dict[str, Any], document: str, due: str, trigger: str, explanation: str
) -> None:
    plan = plan_incident(load_record(raw), load_events(), Policy())
    owed = [o for o in plan.obligations if o.document == document]
    assert {o.addressee for o in owed} == {"secretary_of_state", "ofsted"}
    assert {(o.due, o.trigger, o.explanation) for o in owed} == {(D(due), trigger, explanation)}


def test_s2_the_panel_notification_of_the_harm_still_runs_from_awareness() -> None:
    raw = make_record(make_child(looked_after=True, date_of_death="2026-11-20"), **HARMED_ON)
    plan = plan_incident(load_record(raw), [], Policy())
    panel = {o.document: (o.due, o.trigger) for o in plan.obligations if o.addressee == "panel"}
    assert panel == {
        "incident_notification": (D("2026-11-09"), "became_aware_on"),
        "rapid_review": (D("2026-11-23"), "became_aware_on"),
    }
