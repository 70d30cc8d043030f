"""DESIGN.md §4 "Ages decide different things in different rows" and "Which LA owes it".

Each row is named after the guidance paragraph it rests on: §1 (a child), §2 (young adults
harmed in childhood; "the local authority where the incident occurred"; looked-after child and
care leaver deaths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from adapter.rules import classify
from tests.rules.factories import load_record, make_child, make_record

PANEL = {"incident_notification": ("panel",), "rapid_review": ("panel",)}
LOOKED_AFTER = {"looked_after_child_death_notification": ("secretary_of_state", "ofsted")}
IN_AREA = {"description": "family home", "in_la_area": True}
ELSEWHERE = {"description": "grandparents' home", "in_la_area": False}


@dataclass(frozen=True)
class Case:
    record: dict[str, Any]
    classification: tuple[str, ...]
    documents: dict[str, tuple[str, ...]]
    blocked: str | None = None
    warns: tuple[str, ...] = ()
    never_warns: tuple[str, ...] = ()


def harmed_at_17_died_at_18() -> dict[str, Any]:
    """Issue 14 case 1: harmed at 17 (abuse known), the LA aware at 17, died at 18."""
    return make_record(
        make_child(date_of_birth="2008-12-01", date_of_death="2026-12-05"),
        abuse_or_neglect="known",
        location=IN_AREA,
    )


def died_at_3_in_2007() -> dict[str, Any]:
    """Issue 14 case 2: died aged 3 in 2007, abuse first suspected in 2026."""
    return make_record(
        make_child(date_of_birth="2004-03-01", date_of_death="2007-06-01"),
        date="2007-06-01",
        became_aware_on="2026-11-23",
        historical_harm=True,
        location=IN_AREA,
    )


def abused_at_7_suicide_at_19() -> dict[str, Any]:
    """Issue 14 case 3: abused at 7 in 2015, died by suicide at 19, the LA aware the next day."""
    return make_record(
        make_child(date_of_birth="2007-09-01", date_of_death="2026-11-20"),
        date="2015-06-01",
        became_aware_on="2026-11-21",
        historical_harm=True,
        suicide=True,
        location=IN_AREA,
    )


CASES = {
    "s2_s4_dying_at_18_of_harm_suffered_at_17_is_a_childs_serious_incident": Case(
        harmed_at_17_died_at_18(), ("serious_incident",), PANEL, never_warns=("not a child",)
    ),
    "s2_s4_a_child_who_died_is_never_a_young_adult_old_incident_warned": Case(
        died_at_3_in_2007(),
        ("serious_incident",),
        PANEL,
        warns=("more than a year before became_aware_on",),
    ),
    "s2_young_adults_harmed_in_childhood_aware_as_adult_consult_the_panel": Case(
        abused_at_7_suicide_at_19(),
        ("young_adult_historical_harm",),
        {},
        blocked="panel_consultation_required",
        warns=("more than a year before became_aware_on",),
    ),
    "s2_the_la_where_the_incident_occurred_notifies_another_la": Case(
        make_record(make_child(), location=ELSEWHERE),
        ("serious_incident",),
        {},
        blocked="another_la_notifies",
        warns=("another local authority's area",),
    ),
    "s2_outside_england_the_la_where_the_child_normally_lives_notifies": Case(
        make_record(
            make_child(),
            location={"in_la_area": False, "outside_england_normally_resident": True},
        ),
        ("serious_incident",),
        PANEL,
        never_warns=("another local authority", "location unknown"),
    ),
    "s2_unknown_location_treated_as_in_the_area_with_a_warning": Case(
        make_record(make_child(), location={"description": "not known yet"}),
        ("serious_incident",),
        PANEL,
        warns=("incident.location unknown",),
    ),
    "s2_no_location_at_all_treated_as_in_the_area_with_a_warning": Case(
        make_record(make_child(), location=None),
        ("serious_incident",),
        PANEL,
        warns=("incident.location unknown",),
    ),
    "s2_looked_after_death_elsewhere_still_owed_by_the_responsible_authority": Case(
        make_record(make_child(looked_after=True), location=ELSEWHERE),
        ("serious_incident", "looked_after_child_death"),
        LOOKED_AFTER,
        blocked="another_la_notifies",
        warns=("still owed here by the responsible authority",),
    ),
    "s2_young_adult_in_another_las_area_is_that_las_to_consult_about": Case(
        make_record(
            make_child(date_of_birth="2000-01-01", outcome="seriously_harmed"),
            date="2010-05-01",
            historical_harm=True,
            location=ELSEWHERE,
        ),
        ("young_adult_historical_harm",),
        {},
        blocked="another_la_notifies",
    ),
    "s2_not_notifiable_elsewhere_is_not_blocked": Case(
        make_record(make_child(), abuse_or_neglect="not_known_or_suspected", location=ELSEWHERE),
        ("not_notifiable",),
        {},
        never_warns=("another local authority",),
    ),
    "s4_aware_as_adult_without_historical_harm_ordinary_row_with_warning": Case(
        make_record(
            make_child(date_of_birth="2000-01-01", outcome="seriously_harmed"),
            date="2010-05-01",
            location=IN_AREA,
        ),
        ("serious_incident",),
        PANEL,
        warns=("may be historical harm",),
    ),
    "s4_aware_at_17_harm_at_17_alive_ordinary_row": Case(
        make_record(
            make_child(date_of_birth="2009-01-01", outcome="seriously_harmed"),
            historical_harm=True,
            location=IN_AREA,
        ),
        ("serious_incident",),
        PANEL,
        never_warns=("consult the Panel",),
    ),
    "s4_harmed_at_18_is_not_harm_in_childhood": Case(
        make_record(make_child(date_of_birth="2008-11-20"), location=IN_AREA),
        ("not_notifiable",),
        {},
        warns=("not harm in childhood",),
    ),
    "s4_an_incident_exactly_a_year_old_is_not_warned": Case(
        make_record(make_child(), date="2025-11-23", location=IN_AREA),
        ("serious_incident",),
        PANEL,
        never_warns=("more than a year",),
    ),
    "s4_an_incident_a_year_and_a_day_old_is_warned": Case(
        make_record(make_child(), date="2025-11-22", location=IN_AREA),
        ("serious_incident",),
        PANEL,
        warns=("more than a year",),
    ),
    "s2_care_leaver_harmed_at_17_died_at_18_no_rapid_review": Case(
        make_record(
            make_child(date_of_birth="2008-12-01", date_of_death="2026-12-05", care_leaver=True),
            location=IN_AREA,
        ),
        ("care_leaver_death",),
        {"care_leaver_death_notification": ("secretary_of_state", "ofsted")},
        warns=("Care leavers aged 18 or over",),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_ages_and_who_owes_it(case: Case) -> None:
    found = classify(load_record(case.record))

    assert found.classification == case.classification
    assert {n.document: n.addressees for n in found.documents} == case.documents
    assert found.notifiable is bool(case.documents)
    assert found.rapid_review_required is ("incident_notification" in case.documents)
    assert found.blocked_reason == case.blocked
    for expected in case.warns:
        assert any(expected in warning for warning in found.warnings), found.warnings
    for unexpected in case.never_warns:
        assert not any(unexpected in warning for warning in found.warnings), found.warnings
