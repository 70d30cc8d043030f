"""§8 through the service: a report published after the 6-month limit owes the Panel and the
Secretary of State "the reasons for the delay", and a publication_delayed recorded afterwards
is what sends them (late)."""

from __future__ import annotations

from tests.support.api import document_event, new_record, plain_event, post_event, submit
from tests.support.service import Service


def test_s8_published_after_the_limit_owes_the_reasons_and_sends_them_once_recorded(
    service: Service, la_key: str
) -> None:
    record = new_record(date="2026-02-27", became_aware_on="2026-03-02")
    record["children"][0].update(date_of_death="2026-02-27", looked_after=False)
    incident_id = submit(service, la_key, record)["id"]
    for event in (
        document_event("rapid_review_completed", on="2026-03-20"),
        document_event(
            "lcspr_decided", on="2026-04-10", decision="local_review", reviewer="R. Reviewer"
        ),  # the limit is 2026-10-10
        document_event(
            "publication_scheduled",
            on="2026-09-01",
            publication_date="2026-10-09",
            mode="full_report",
        ),
    ):
        post_event(service, la_key, incident_id, event)

    body = post_event(
        service,
        la_key,
        incident_id,
        plain_event("published", on="2026-10-20", url="https://example.org/lcspr"),
    )
    notices = {
        o["addressee"]: o
        for o in body["obligations"]
        if o["document"] == "publication_delay_notice"
    }
    assert set(notices) == {"panel", "secretary_of_state"}
    assert {(o["due"], o["status"]) for o in notices.values()} == {("2026-10-10", "overdue")}

    delayed = document_event("publication_delayed", on="2026-10-22", reason="inquest")
    body = post_event(service, la_key, incident_id, delayed)
    assert sorted(
        d["addressee"] for d in body["deliveries"] if d["document"] == "publication_delay_notice"
    ) == ["panel", "secretary_of_state"]
    service.work()
    shown = service.get(f"/api/v1/incidents/{incident_id}", la_key).get_json()
    assert {
        o["status"] for o in shown["obligations"] if o["document"] == "publication_delay_notice"
    } == {"met_late"}
