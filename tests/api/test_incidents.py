"""POST /incidents, GET /incidents/{id} and POST /incidents/{id}/amendments (DESIGN.md §4, §7)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from adapter.store.models import IncidentRow, IncidentVersionRow
from tests.support.api import API, assert_problem, new_record, owed, submit, young_adult_record
from tests.support.service import Service


def incident_count(service: Service) -> int:
    with service.database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(IncidentRow)) or 0)


def test_submission_answers_201_with_location_and_id(service: Service, la_key: str) -> None:
    record = new_record()
    response = service.post(f"{API}/incidents", la_key, record)
    assert response.status_code == 201
    body = response.get_json()
    assert body["id"]
    assert response.headers["Location"].endswith(f"{API}/incidents/{body['id']}")
    assert body["reference"] == record["incident"]["reference"]
    assert body["local_authority_code"] == "812"
    assert body["current_version"] == 1
    assert body["status"] == "notifiable"
    assert service.get(response.headers["Location"], la_key).status_code == 200


def test_submission_queues_one_delivery_per_owed_notification(
    service: Service, la_key: str
) -> None:
    body = submit(service, la_key)
    assert {(d["document"], d["addressee"]) for d in body["deliveries"]} == {
        ("incident_notification", "panel"),
        ("looked_after_child_death_notification", "secretary_of_state"),
        ("looked_after_child_death_notification", "ofsted"),
    }
    assert {d["status"] for d in body["deliveries"]} == {"queued"}
    service.work()
    stats = service.sandbox.state.stats()["addressees"]
    assert {name: entry["count"] for name, entry in stats.items()} == {
        "panel": 1,
        "secretary_of_state": 1,
        "ofsted": 1,
        "dfe": 0,
    }


def test_identical_resubmission_answers_200_with_the_same_incident(
    service: Service, la_key: str
) -> None:
    record = new_record()
    first = service.post(f"{API}/incidents", la_key, record)
    again = service.post(f"{API}/incidents", la_key, record)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert len(again.get_json()["deliveries"]) == 3  # nothing queued twice
    assert incident_count(service) == 1


def test_different_content_under_the_same_reference_is_409(service: Service, la_key: str) -> None:
    record = new_record()
    created = submit(service, la_key, record)
    record["incident"]["summary"] = "a different outline"
    problem = assert_problem(service.post(f"{API}/incidents", la_key, record), 409)
    assert f"/incidents/{created['id']}/amendments" in problem["detail"]
    assert incident_count(service) == 1


def _from_export(record: dict[str, Any], file: str, row: int) -> dict[str, Any]:
    return {**record, "source": {"system": "liquidlogic", "file": file, "row": row}}


def test_the_same_facts_from_another_export_answer_200(service: Service, la_key: str) -> None:
    """§4 one notification per incident: next week's export of an unchanged incident, at
    another row of another file, is the same notification, not a conflict."""
    record = new_record()
    first = service.post(f"{API}/incidents", la_key, _from_export(record, "week-1.csv", 2))
    again = service.post(f"{API}/incidents", la_key, _from_export(record, "week-2.csv", 7))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    record["incident"]["summary"] = "a different outline"
    changed = service.post(f"{API}/incidents", la_key, _from_export(record, "week-3.csv", 7))
    assert_problem(changed, 409)


def test_an_amendment_changing_only_the_source_adds_no_version(
    service: Service, la_key: str
) -> None:
    """Where a record came from is not a fact to send the addressees as an amendment."""
    record = new_record()
    incident_id = submit(service, la_key, _from_export(record, "week-1.csv", 2))["id"]
    service.work()
    response = service.post(
        f"{API}/incidents/{incident_id}/amendments", la_key, _from_export(record, "week-2.csv", 9)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["current_version"] == 1
    assert not [d for d in response.get_json()["deliveries"] if d["document"] == "amendment"]


def test_idempotency_key_with_the_same_body_answers_200(service: Service, la_key: str) -> None:
    record = new_record()
    first = service.post(f"{API}/incidents", la_key, record, **{"Idempotency-Key": "k-1"})
    again = service.post(f"{API}/incidents", la_key, record, **{"Idempotency-Key": "k-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]


def test_idempotency_key_reused_for_a_different_record_is_409(
    service: Service, la_key: str
) -> None:
    submit(service, la_key, new_record(), **{"Idempotency-Key": "k-2"})
    response = service.post(f"{API}/incidents", la_key, new_record(), **{"Idempotency-Key": "k-2"})
    problem = assert_problem(response, 409)
    assert "Idempotency-Key" in problem["detail"]
    assert incident_count(service) == 1


def test_idempotency_key_reused_with_changed_content_is_409(service: Service, la_key: str) -> None:
    record = new_record()
    submit(service, la_key, record, **{"Idempotency-Key": "k-3"})
    record["incident"]["summary"] = "changed"
    response = service.post(f"{API}/incidents", la_key, record, **{"Idempotency-Key": "k-3"})
    assert_problem(response, 409)


def test_an_invalid_idempotency_key_is_400(service: Service, la_key: str) -> None:
    response = service.post(
        f"{API}/incidents", la_key, new_record(), **{"Idempotency-Key": "x" * 256}
    )
    assert_problem(response, 400)
    assert incident_count(service) == 0


def test_get_shows_the_record_version_obligations_and_timeline(
    service: Service, la_key: str
) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    service.work()
    body = service.get(f"{API}/incidents/{incident_id}", la_key).get_json()
    assert body["record"]["incident"]["reference"] == record["incident"]["reference"]
    assert body["record"]["children"][0]["forenames"] == record["children"][0]["forenames"]
    assert body["current_version"] == 1
    assert owed(body["obligations"]) == {
        ("incident_notification", "panel"),
        ("looked_after_child_death_notification", "secretary_of_state"),
        ("looked_after_child_death_notification", "ofsted"),
        ("rapid_review", "panel"),
    }
    by_document = {(o["document"], o["addressee"]): o for o in body["obligations"]}
    notification = by_document["incident_notification", "panel"]
    assert notification["status"] in ("met", "met_late")  # acknowledged by the sandbox
    assert notification["explanation"].startswith("5 working days after 2026-11-23")
    assert by_document["rapid_review", "panel"]["explanation"].startswith(
        "15 working days after 2026-11-23"
    )
    kinds = [entry["kind"] for entry in body["timeline"]]
    assert kinds[0] == "version"
    assert kinds.count("delivery") == 3 and kinds.count("attempt") == 3
    assert [entry["at"] for entry in body["timeline"]] == sorted(
        entry["at"] for entry in body["timeline"]
    )
    assert {d["status"] for d in body["deliveries"]} == {"acknowledged"}


def test_get_of_an_unknown_incident_is_404(service: Service, la_key: str) -> None:
    assert_problem(service.get(f"{API}/incidents/no-such-incident", la_key), 404)


def amended(record: dict[str, Any], summary: str = "new facts emerged") -> dict[str, Any]:
    return {**record, "incident": {**record["incident"], "summary": summary}}


def test_amendment_adds_a_version_and_sends_it_to_every_notified_addressee(
    service: Service, la_key: str
) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    service.work()
    response = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, amended(record))
    assert response.status_code == 201
    body = response.get_json()
    assert body["current_version"] == 2
    assert body["record"]["incident"]["summary"] == "new facts emerged"
    amendments = [d for d in body["deliveries"] if d["document"] == "amendment"]
    assert sorted(d["addressee"] for d in amendments) == ["ofsted", "panel", "secretary_of_state"]
    assert {d["version"] for d in amendments} == {2}
    service.work()
    stats = service.sandbox.state.stats()["addressees"]
    for addressee in ("panel", "secretary_of_state", "ofsted"):
        received = stats[addressee]["received"].values()
        assert stats[addressee]["count"] == 2
        assert sorted(item["document"] for item in received)[0] == "amendment"
    assert stats["dfe"]["count"] == 0
    with service.database.session_scope() as session:
        versions = session.scalars(
            select(IncidentVersionRow.version).where(IncidentVersionRow.incident_id == incident_id)
        ).all()
    assert sorted(versions) == [1, 2]


def test_identical_amendment_answers_200_without_a_new_version(
    service: Service, la_key: str
) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    response = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, record)
    assert response.status_code == 200
    assert response.get_json()["current_version"] == 1
    assert not [d for d in response.get_json()["deliveries"] if d["document"] == "amendment"]


def test_amendment_changing_the_reference_is_422(service: Service, la_key: str) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    other = new_record()
    response = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, other)
    assert_problem(response, 422)
    assert service.get(f"{API}/incidents/{incident_id}", la_key).get_json()["current_version"] == 1


def test_invalid_amendment_is_422_with_field_errors(service: Service, la_key: str) -> None:
    record = new_record()
    incident_id = submit(service, la_key, record)["id"]
    record["children"][0]["outcome"] = "vanished"
    response = service.post(f"{API}/incidents/{incident_id}/amendments", la_key, record)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["children.0.outcome"]


def test_amendment_of_an_unknown_incident_is_404(service: Service, la_key: str) -> None:
    response = service.post(f"{API}/incidents/missing/amendments", la_key, new_record())
    assert_problem(response, 404)


def test_the_created_answer_is_what_get_then_shows(service: Service, la_key: str) -> None:
    """The 201 body is built from what was just written; it must equal a fresh read."""
    for record in (new_record(), young_adult_record()):
        created = service.post(f"{API}/incidents", la_key, record).get_json()
        shown = service.get(f"{API}/incidents/{created['id']}", la_key).get_json()
        assert created == shown
    referral = submit(service, service.key("agency"))
    assert referral == service.get(f"{API}/incidents/{referral['id']}", la_key).get_json()
