"""Every row of DESIGN.md §4 and their combinations, named after the guidance paragraph."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapter.rules import PanelConsultation, classify
from tests.rules.factories import load_record, make_child, make_record

Owed = dict[str, tuple[str, ...]]
PANEL: Owed = {"incident_notification": ("panel",), "rapid_review": ("panel",)}
LOOKED_AFTER: Owed = {"looked_after_child_death_notification": ("secretary_of_state", "ofsted")}
CARE_LEAVER: Owed = {"care_leaver_death_notification": ("secretary_of_state", "ofsted")}
CONSULTED_ON = dt.date(2026, 12, 1)


@dataclass(frozen=True)
class Row:
    """One table row: the record, the consultation, and what classify must answer."""

    record: dict[str, Any]
    classification: tuple[str, ...]
    documents: Owed = field(default_factory=dict)
    rapid_review: bool = False
    blocked: bool = False
    consultation: str | None = None
    warns: tuple[str, ...] = ()


def aged(years: int, **overrides: Any) -> dict[str, Any]:
    """A child whose age on the incident date (2026-11-20, also the day of death) is ``years``."""
    return make_child(date_of_birth=f"{2026 - years}-01-01", **overrides)


def young_adult(**overrides: Any) -> dict[str, Any]:
    """Seriously harmed at 10 in 2010; 26 when the LA became aware in 2026."""
    return make_child(date_of_birth="2000-01-01", outcome="seriously_harmed", **overrides)


HISTORICAL = {"historical_harm": True, "date": "2010-05-01"}

ROWS = {
    # §1, §2: abuse or neglect known or suspected, and the child died or was seriously harmed.
    "s1_serious_incident_death_abuse_suspected": Row(
        make_record(make_child()), ("serious_incident",), PANEL, rapid_review=True
    ),
    "s1_serious_incident_death_abuse_known": Row(
        make_record(make_child(), abuse_or_neglect="known"),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s1_serious_incident_serious_harm": Row(
        make_record(make_child(outcome="seriously_harmed"), abuse_or_neglect="known"),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s1_death_abuse_not_known_or_suspected_not_notifiable": Row(
        make_record(make_child(), abuse_or_neglect="not_known_or_suspected"),
        ("not_notifiable",),
    ),
    "s1_serious_harm_abuse_not_known_or_suspected_not_notifiable": Row(
        make_record(
            make_child(outcome="seriously_harmed"), abuse_or_neglect="not_known_or_suspected"
        ),
        ("not_notifiable",),
    ),
    "s1_child_not_harmed_other_with_rationale_not_notifiable": Row(
        make_record(make_child(outcome="not_harmed")),
        ("not_notifiable",),
        warns=("nature is 'other'",),
    ),
    "s2_other_with_rationale_classified_by_outcomes": Row(
        make_record(make_child(), nature="other", other_rationale="notified as other: twins"),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    # §2 "Notification in the event of the death of a looked after child or care leaver".
    "s2_looked_after_child_death_any_abuse_finding": Row(
        make_record(make_child(looked_after=True), abuse_or_neglect="not_known_or_suspected"),
        ("looked_after_child_death",),
        LOOKED_AFTER,
    ),
    "s2_looked_after_child_death_with_abuse_gets_both": Row(
        make_record(make_child(looked_after=True), abuse_or_neglect="known"),
        ("serious_incident", "looked_after_child_death"),
        {**PANEL, **LOOKED_AFTER},
        rapid_review=True,
    ),
    "s2_looked_after_child_seriously_harmed_no_abuse_not_notifiable": Row(
        make_record(
            make_child(looked_after=True, outcome="seriously_harmed"),
            abuse_or_neglect="not_known_or_suspected",
        ),
        ("not_notifiable",),
    ),
    "s2_care_leavers_under_18_no_abuse_no_rapid_review": Row(
        make_record(aged(17, care_leaver=True), abuse_or_neglect="not_known_or_suspected"),
        ("care_leaver_death",),
        CARE_LEAVER,
    ),
    "s2_care_leavers_under_18_abuse_full_learning_process": Row(
        make_record(aged(17, care_leaver=True)),
        ("serious_incident", "care_leaver_death"),
        {**PANEL, **CARE_LEAVER},
        rapid_review=True,
    ),
    "s2_care_leavers_18_or_over_no_abuse": Row(
        make_record(aged(18, care_leaver=True), abuse_or_neglect="not_known_or_suspected"),
        ("care_leaver_death",),
        CARE_LEAVER,
    ),
    "s2_care_leavers_18_or_over_abuse_no_rapid_review": Row(
        make_record(aged(18, care_leaver=True), abuse_or_neglect="known"),
        ("care_leaver_death",),
        CARE_LEAVER,
        warns=("Care leavers aged 18 or over",),
    ),
    "s2_care_leaver_aged_24_notified": Row(
        make_record(aged(24, care_leaver=True), abuse_or_neglect="not_known_or_suspected"),
        ("care_leaver_death",),
        CARE_LEAVER,
    ),
    "s2_care_leaver_24_on_the_eve_of_25th_birthday_notified": Row(
        make_record(
            make_child(date_of_birth="2001-11-21", care_leaver=True),
            abuse_or_neglect="not_known_or_suspected",
        ),
        ("care_leaver_death",),
        CARE_LEAVER,
    ),
    "s2_care_leaver_aged_25_not_notifiable": Row(
        make_record(
            make_child(date_of_birth="2001-11-20", care_leaver=True),
            abuse_or_neglect="not_known_or_suspected",
        ),
        ("not_notifiable",),
        warns=("over 24",),
    ),
    "s2_care_leaver_of_unknown_age_notified_with_warning": Row(
        make_record(make_child(identity_known=False, care_leaver=True)),
        ("serious_incident", "care_leaver_death"),
        {**PANEL, **CARE_LEAVER},
        rapid_review=True,
        warns=("care leaver of unknown age",),
    ),
    "s2_care_leaver_age_years_24_died_a_year_later_uncertain": Row(
        make_record(
            make_child(
                date_of_birth=None, age_years=24, care_leaver=True, date_of_death="2027-06-01"
            ),
            abuse_or_neglect="not_known_or_suspected",
        ),
        ("care_leaver_death",),
        CARE_LEAVER,
        warns=("aged 24 or 25",),
    ),
    # §2 young adults harmed in childhood: consult the Panel before notifying.
    "s2_young_adult_historical_harm_blocked_until_panel_consulted": Row(
        make_record(young_adult(), **HISTORICAL),
        ("young_adult_historical_harm",),
        blocked=True,
    ),
    "s2_young_adult_historical_harm_panel_says_notify": Row(
        make_record(young_adult(), **HISTORICAL),
        ("serious_incident", "young_adult_historical_harm"),
        PANEL,
        rapid_review=True,
        consultation="notify",
    ),
    "s2_young_adult_historical_harm_panel_says_do_not_notify": Row(
        make_record(young_adult(), **HISTORICAL),
        ("young_adult_historical_harm",),
        consultation="do_not_notify",
    ),
    "s2_historical_harm_under_18_on_became_aware_ordinary_rows": Row(
        make_record(
            make_child(date_of_birth="2012-01-01", outcome="seriously_harmed"), **HISTORICAL
        ),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s2_historical_harm_age_unknown_treated_as_child_with_warning": Row(
        make_record(make_child(identity_known=False, outcome="seriously_harmed"), **HISTORICAL),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
        warns=("age on became_aware_on unknown",),
    ),
    "s2_historical_harm_young_adult_and_child_notified_for_the_child": Row(
        make_record(
            young_adult(),
            make_child(date_of_birth="2012-01-01", outcome="seriously_harmed"),
            **HISTORICAL,
        ),
        ("serious_incident", "young_adult_historical_harm"),
        PANEL,
        rapid_review=True,
        warns=("consult the Panel about them",),
    ),
    "s2_historical_harm_suffered_as_an_adult_is_not_harm_in_childhood": Row(
        # DESIGN.md §4 "young adult (>= 18) with harm in childhood"; §1: a child is under 18.
        make_record(
            young_adult(), historical_harm=True, date="2026-11-01", became_aware_on="2026-11-20"
        ),
        ("not_notifiable",),
        warns=("not harm in childhood",),
    ),
    "s2_young_adult_blocked_while_care_leaver_death_notified": Row(
        make_record(
            young_adult(),
            make_child(
                date_of_birth="2004-01-01",
                care_leaver=True,
                outcome="died",
                date_of_death="2026-11-01",
            ),
            **HISTORICAL,
        ),
        ("care_leaver_death", "young_adult_historical_harm"),
        CARE_LEAVER,
        blocked=True,
    ),
    # §2 suicide where abuse or neglect is a factor is a death.
    "s2_suicide_with_abuse_is_a_death": Row(
        make_record(aged(15), suicide=True),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s2_suicide_without_abuse_not_notifiable": Row(
        make_record(aged(15), suicide=True, abuse_or_neglect="not_known_or_suspected"),
        ("not_notifiable",),
    ),
    "s2_suicide_notified_as_other_warns_to_notify_as_death": Row(
        make_record(aged(15), suicide=True, nature="other", other_rationale="unclear"),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
        warns=("notified as a 'death'",),
    ),
    # §2 identity not yet known: notify without delay.
    "s2_unknown_identity_still_notified": Row(
        make_record(make_child(identity_known=False)),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
        warns=("identity is not known",),
    ),
    "s2_unknown_identity_with_age_years": Row(
        make_record(make_child(identity_known=False, age_years=9, outcome="seriously_harmed")),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    # §2 one notification per incident, all children represented.
    "s2_several_children_one_notification": Row(
        make_record(aged(3), aged(5)),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s2_several_children_rows_combine": Row(
        make_record(
            aged(3, outcome="seriously_harmed"),
            aged(20, care_leaver=True),
            aged(14, looked_after=True),
        ),
        ("serious_incident", "looked_after_child_death", "care_leaver_death"),
        {**PANEL, **LOOKED_AFTER, **CARE_LEAVER},
        rapid_review=True,
    ),
    "s2_several_children_no_abuse_only_the_looked_after_row": Row(
        make_record(
            aged(3), aged(14, looked_after=True), abuse_or_neglect="not_known_or_suspected"
        ),
        ("looked_after_child_death",),
        LOOKED_AFTER,
    ),
    # DESIGN.md §4 ages: at date_of_death else incident.date, from date_of_birth else age_years.
    "s4_age_from_age_years_child": Row(
        make_record(make_child(date_of_birth=None, age_years=17)),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s4_age_from_age_years_adult_not_a_child": Row(
        make_record(make_child(date_of_birth=None, age_years=19)),
        ("not_notifiable",),
        warns=("not a child",),
    ),
    "s4_age_on_incident_date_decides_harm_in_childhood_not_age_at_death": Row(
        # 17 on the incident date, 18 when they died of the harm, the LA aware at 17: a
        # child's serious incident (DESIGN.md §4 "Dying at 18 of harm suffered at 17").
        make_record(make_child(date_of_birth="2008-12-01", date_of_death="2026-12-05")),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s4_unborn_child_is_a_child": Row(
        make_record(make_child(date_of_birth=None, unborn=True)),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
    ),
    "s4_adult_is_not_a_child_not_notifiable": Row(
        make_record(aged(19)),
        ("not_notifiable",),
        warns=("not a child",),
    ),
    "s2_outcome_unknown_taken_from_nature_death": Row(
        make_record(make_child(outcome="unknown"), nature="death"),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
        warns=("taken as 'died'",),
    ),
    "s2_outcome_unknown_beside_a_death_not_presumed": Row(
        make_record(aged(4), aged(6, outcome="unknown", looked_after=True)),
        ("serious_incident",),
        PANEL,
        rapid_review=True,
        warns=("children.1: outcome unknown",),
    ),
}


@pytest.mark.parametrize("row", list(ROWS.values()), ids=list(ROWS))
def test_rows(row: Row) -> None:
    consultation = PanelConsultation(CONSULTED_ON, row.consultation) if row.consultation else None
    found = classify(load_record(row.record), consultation)

    assert found.classification == row.classification
    assert found.notifiable is bool(row.documents)
    assert found.rapid_review_required is row.rapid_review
    assert found.blocked_reason == ("panel_consultation_required" if row.blocked else None)
    assert {n.document: n.addressees for n in found.documents} == row.documents
    for expected in row.warns:
        assert any(expected in warning for warning in found.warnings), found.warnings


def test_s2_panel_notify_starts_the_clocks_on_the_consultation_date() -> None:
    record = load_record(make_record(young_adult(), **HISTORICAL))
    found = classify(record, PanelConsultation(CONSULTED_ON, "notify"))
    assert {(n.trigger, n.trigger_on) for n in found.documents} == {
        ("panel_consulted", CONSULTED_ON)
    }


def test_s2_looked_after_and_care_leaver_clocks_start_on_became_aware() -> None:
    record = load_record(make_record(aged(14, looked_after=True)))
    assert {(n.trigger, n.trigger_on) for n in classify(record).documents} == {
        ("became_aware_on", dt.date(2026, 11, 23))
    }


def test_s2_unknown_identity_needs_nothing_but_the_outcome() -> None:
    raw = make_record({"identity_known": False, "outcome": "seriously_harmed"})
    assert classify(load_record(raw)).classification == ("serious_incident",)


def test_warnings_are_unique_and_stable() -> None:
    raw = make_record(make_child(identity_known=False), make_child(identity_known=False))
    first = classify(load_record(raw)).warnings
    assert first == classify(load_record(raw)).warnings
    assert len(first) == len(set(first))
