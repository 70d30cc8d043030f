"""The obligations and events of the guidance's second reading (DESIGN.md §5 table, §7).

Named after the guidance paragraph each rests on: §3 referrals by partner agencies, §4 the
rationale to the family, §5 further information for the Panel, §8 the publication decision and
how long a published report stays available.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.clock import LONDON
from adapter.deadlines.plan import Plan, plan_incident
from adapter.errors import EventRefused
from config.settings import Policy
from tests.rules.factories import load_events, load_record, make_event, make_record

D = dt.date.fromisoformat
POLICY = Policy()
REVIEWER = {"reviewer": "J. Reviewer"}
RAPID = make_event("rapid_review_completed", "2026-12-10")
LOCAL = make_event("lcspr_decided", "2026-12-18", decision="local_review", **REVIEWER)
NO_REVIEW = make_event("lcspr_decided", "2026-12-18", decision="no_review")
REFERRAL = {"received_on": "2026-11-24", "agency": "Northern Lincolnshire NHS Trust"}


def planned(raw: dict[str, Any], *events: dict[str, Any], **kwargs: Any) -> Plan:
    return plan_incident(load_record(raw), load_events(*events), POLICY, **kwargs)


def rows(plan: Plan, document: str) -> dict[str, tuple[str, str, str | None]]:
    """addressee: (due, kind, satisfied_on) of each obligation of ``document``."""
    return {
        o.addressee: (
            o.due.isoformat(),
            o.kind,
            None if o.satisfied_on is None else o.satisfied_on.isoformat(),
        )
        for o in plan.obligations
        if o.document == document
    }


def referral_record(**incident: Any) -> dict[str, Any]:
    record = make_record(**incident)
    record["referral"] = dict(REFERRAL)
    return record


# --- §3, §4: the decision's addressees; §4 the rationale to the family ------------------------


@pytest.mark.parametrize(
    ("decision", "addressees"),
    [(LOCAL, {"panel", "ofsted", "dfe"}), (NO_REVIEW, {"panel"})],
    ids=["s3_s4_local_review_to_panel_ofsted_dfe", "s3_no_review_to_the_panel_only"],
)
def test_lcspr_decision_addressees_by_decision(
    decision: dict[str, Any], addressees: set[str]
) -> None:
    assert set(rows(planned(make_record(), RAPID, decision), "lcspr_decision")) == addressees


def test_s4_decision_rationale_to_family_is_local_and_met_by_family_informed() -> None:
    owed = planned(make_record(), RAPID, NO_REVIEW)
    # 5 working days after Friday 2026-12-18, skipping Christmas Day and Boxing Day (observed).
    assert rows(owed, "decision_rationale_to_family") == {"family": ("2026-12-29", "local", None)}
    told = planned(make_record(), RAPID, NO_REVIEW, make_event("family_informed", "2026-12-21"))
    assert rows(told, "decision_rationale_to_family") == {
        "family": ("2026-12-29", "local", "2026-12-21")
    }


def test_s4_a_changed_decision_is_owed_to_the_family_afresh() -> None:
    plan = planned(
        make_record(),
        RAPID,
        NO_REVIEW,
        make_event("family_informed", "2026-12-21"),
        make_event("lcspr_decided", "2027-01-11", decision="local_review", **REVIEWER),
    )
    assert rows(plan, "decision_rationale_to_family") == {"family": ("2027-01-18", "local", None)}


# --- §5 further information -------------------------------------------------------------------


def test_s5_further_information_by_five_working_days_when_the_panel_gave_no_date() -> None:
    asked = make_event("panel_information_requested", "2026-12-14")
    assert rows(planned(make_record(), RAPID, asked), "further_information") == {
        "panel": ("2026-12-21", "statutory", None)
    }


def test_s5_further_information_by_the_panels_date_met_when_sent() -> None:
    asked = make_event("panel_information_requested", "2026-12-14", due="2027-01-08")
    sent = make_event("further_information_sent", "2027-01-06")
    plan = planned(make_record(), RAPID, asked, sent)
    (owed,) = [o for o in plan.obligations if o.document == "further_information"]
    assert (owed.due, owed.satisfied_on) == (D("2027-01-08"), D("2027-01-06"))
    assert "the date the Panel gave" in owed.explanation


def test_s5_further_information_sent_unasked_owes_nothing() -> None:
    sent = make_event("further_information_sent", "2026-12-14")
    assert rows(planned(make_record(), RAPID, sent), "further_information") == {}


def test_s5_a_second_request_is_owed_once_the_first_is_answered() -> None:
    plan = planned(
        make_record(),
        RAPID,
        make_event("panel_information_requested", "2026-12-14"),
        make_event("further_information_sent", "2026-12-16"),
        make_event("panel_information_requested", "2027-01-04"),
    )
    assert rows(plan, "further_information") == {"panel": ("2027-01-11", "statutory", None)}


# --- §8 the publication decision and availability ----------------------------------------------


def test_s8_improvements_only_owes_a_justification_beside_publication() -> None:
    decided = make_event("publication_decided", "2027-01-11", publish="improvements_only")
    plan = planned(make_record(), RAPID, LOCAL, decided)
    assert rows(plan, "publication_justification") == {
        "panel": ("2027-01-18", "statutory", None),
        "secretary_of_state": ("2027-01-18", "statutory", None),
    }
    assert rows(plan, "publication") == {"public": ("2027-06-18", "statutory", None)}


def test_s8_publish_nothing_replaces_publication_and_the_delay_notice() -> None:
    decided = make_event("publication_decided", "2027-01-11", publish="none")
    plan = planned(make_record(), RAPID, LOCAL, decided, today=D("2027-08-01"))
    documents = {o.document for o in plan.obligations}
    assert "publication_justification" in documents
    assert not documents & {"publication", "publication_delay_notice"}


def test_s8_the_full_report_owes_no_justification() -> None:
    decided = make_event("publication_decided", "2027-01-11", publish="full_report")
    assert rows(planned(make_record(), RAPID, LOCAL, decided), "publication_justification") == {}


PUBLISHED = (
    make_event(
        "publication_scheduled", "2027-02-01", publication_date="2027-03-01", mode="full_report"
    ),
    make_event("published", "2027-03-01", url="https://example.gov.uk/lcspr.pdf"),
)


def test_s8_a_published_report_stays_available_a_year() -> None:
    plan = planned(make_record(), RAPID, LOCAL, *PUBLISHED)
    (owed,) = [o for o in plan.obligations if o.document == "publication_availability"]
    assert (owed.addressee, owed.due, owed.satisfied_on) == (
        "public",
        D("2028-03-01"),
        D("2028-03-01"),
    )
    during = dt.datetime(2027, 9, 1, 12, tzinfo=LONDON)
    after = dt.datetime(2028, 3, 2, 12, tzinfo=LONDON)
    assert owed.status(during, POLICY) == "pending"
    assert owed.status(after, POLICY) == "met"


def test_s8_a_withdrawal_within_the_year_is_a_breach_shown_overdue() -> None:
    withdrawn = make_event("publication_withdrawn", "2027-06-01")
    plan = planned(make_record(), RAPID, LOCAL, *PUBLISHED, withdrawn)
    (owed,) = [o for o in plan.obligations if o.document == "publication_availability"]
    assert owed.satisfied_on is None
    assert "a breach of §8" in owed.explanation
    assert owed.status(dt.datetime(2027, 6, 1, 12, tzinfo=LONDON), POLICY) == "overdue"


def test_s8_a_withdrawal_after_the_year_keeps_it_met() -> None:
    withdrawn = make_event("publication_withdrawn", "2028-03-02")
    plan = planned(make_record(), RAPID, LOCAL, *PUBLISHED, withdrawn)
    assert rows(plan, "publication_availability") == {
        "public": ("2028-03-01", "statutory", "2028-03-01")
    }


# --- §3 cases raised by partner agencies ------------------------------------------------------


def test_s3_a_referral_owes_the_partners_decision_and_a_local_rapid_review() -> None:
    plan = planned(referral_record())
    assert plan.notifiable is False and plan.referral_open is True
    assert rows(plan, "referral_decision") == {
        "safeguarding_partners": ("2026-12-01", "local", None)
    }
    assert rows(plan, "rapid_review") == {"safeguarding_partners": ("2026-12-15", "local", None)}
    assert {o.document for o in plan.obligations} == {"referral_decision", "rapid_review"}
    assert any("an agency's referral" in w for w in plan.warnings)


def test_s3_notify_turns_the_referral_into_the_notification_from_its_receipt() -> None:
    decided = make_event("referral_decided", "2026-11-26", decision="notify", rationale="§1 met")
    plan = planned(referral_record(), decided)
    assert plan.notifiable is True and plan.referral_open is False
    assert rows(plan, "referral_decision") == {
        "safeguarding_partners": ("2026-12-01", "local", "2026-11-26")
    }
    assert rows(plan, "incident_notification") == {"panel": ("2026-12-01", "statutory", None)}
    assert rows(plan, "rapid_review") == {"panel": ("2026-12-15", "statutory", None)}
    assert {o.trigger for o in plan.obligations if o.addressee == "panel"} == {"referral_received"}


def test_s3_do_not_notify_keeps_the_local_rapid_review_never_sent_to_the_panel() -> None:
    decided = make_event("referral_decided", "2026-11-26", decision="do_not_notify", rationale="r")
    done = make_event("rapid_review_completed", "2026-12-08")
    plan = planned(referral_record(), decided, done)
    assert plan.notifiable is False
    assert rows(plan, "rapid_review") == {
        "safeguarding_partners": ("2026-12-15", "local", "2026-12-08")
    }
    assert not any(o.addressee == "panel" for o in plan.obligations)


# --- DESIGN.md §7: events out of the guidance's order are refused, saying why -----------------

REFUSED = {
    "s8_publication_decided_without_a_local_review": (
        make_record(),
        [RAPID, NO_REVIEW, make_event("publication_decided", "2027-01-11", publish="none")],
        "no 'local_review' has been decided",
    ),
    "s8_publication_withdrawn_before_published": (
        make_record(),
        [RAPID, LOCAL, make_event("publication_withdrawn", "2027-01-11")],
        "nothing has been published to withdraw",
    ),
    "s4_family_informed_before_any_decision": (
        make_record(),
        [RAPID, make_event("family_informed", "2026-12-14")],
        "none has been recorded (lcspr_decided)",
    ),
    "s3_referral_decided_on_a_record_that_is_not_a_referral": (
        make_record(),
        [make_event("referral_decided", "2026-11-26", decision="notify", rationale="r")],
        "this record is not an agency's referral",
    ),
    "s3_a_referral_is_decided_before_its_review_process": (
        referral_record(),
        [RAPID, NO_REVIEW],
        "an agency's referral is decided first",
    ),
    "s3_a_referral_not_notified_has_no_review_process": (
        referral_record(),
        [
            make_event("referral_decided", "2026-11-26", decision="do_not_notify", rationale="r"),
            RAPID,
            NO_REVIEW,
        ],
        "not to notify this referral",
    ),
    "s3_a_referral_is_decided_once": (
        referral_record(),
        [
            make_event("referral_decided", "2026-11-26", decision="do_not_notify", rationale="r"),
            make_event("referral_decided", "2026-11-27", decision="notify", rationale="r"),
        ],
        "already decided",
    ),
    "s8_nothing_scheduled_after_deciding_to_publish_nothing": (
        make_record(),
        [
            RAPID,
            LOCAL,
            make_event("publication_decided", "2027-01-11", publish="none"),
            PUBLISHED[0],
        ],
        "publish nothing",
    ),
    "s8_the_schedule_follows_the_decision": (
        make_record(),
        [
            RAPID,
            LOCAL,
            make_event("publication_decided", "2027-01-11", publish="improvements_only"),
            PUBLISHED[0],
        ],
        "is not what the partners decided",
    ),
    "s5_the_panels_date_is_not_before_it_asked": (
        make_record(),
        [RAPID, make_event("panel_information_requested", "2026-12-14", due="2026-12-01")],
        "before the day it asked",
    ),
}


@pytest.mark.parametrize(("raw", "events", "reason"), list(REFUSED.values()), ids=list(REFUSED))
def test_events_out_of_the_guidances_order_are_refused_saying_why(
    raw: dict[str, Any], events: list[dict[str, Any]], reason: str
) -> None:
    with pytest.raises(
        EventRefused, match="refused: .*" + reason.replace("(", r"\(").replace(")", r"\)")
    ):
        planned(raw, *events)
