"""``/api/v1/receipts``, an incident's receipts zip and ``/.well-known/jwks.json`` (§6, §7)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import zipfile

import pytest

from adapter.clock import london_today
from tests.receipts.service.conftest import (
    acknowledged,
    audit_entries,
    key_id,
    make_record,
    receipt_rows,
    signing_keyring,
)


@pytest.fixture
def three_receipts(service):
    """A looked-after child died: the Panel, the Secretary of State and Ofsted acknowledge (§2)."""
    incident = acknowledged(service, make_record(looked_after=True))
    assert len(receipt_rows(service)) == 3
    return incident


def test_the_list_carries_what_a_compliance_officer_needs(service, three_receipts):
    response = service.get("/api/v1/receipts", service.key("compliance"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["next"] is None
    items = body["items"]
    assert [item["sequence"] for item in items] == [1, 2, 3]
    deliveries = {d["id"]: d for d in three_receipts["deliveries"]}
    for item in items:
        assert set(item) == {
            "id",
            "sequence",
            "delivery_id",
            "incident_id",
            "local_authority_code",
            "document",
            "addressee",
            "on_time",
            "acknowledged_at",
        }
        delivery = deliveries[item["delivery_id"]]
        assert (item["document"], item["addressee"]) == (
            delivery["document"],
            delivery["addressee"],
        )
        assert item["incident_id"] == three_receipts["id"]
        assert item["local_authority_code"] == "812"
        assert item["on_time"] is True
        assert dt.datetime.fromisoformat(item["acknowledged_at"]).tzinfo is not None
    assert {item["addressee"] for item in items} == {"panel", "secretary_of_state", "ofsted"}


def test_filters_and_pages(service, three_receipts):
    key = service.key("compliance")

    def addressees(**params: str) -> list[str]:
        response = service.get("/api/v1/receipts", key, **params)
        assert response.status_code == 200, response.get_json()
        return [item["addressee"] for item in response.get_json()["items"]]

    today = london_today()
    assert addressees(addressee="ofsted") == ["ofsted"]
    assert sorted(addressees(document="looked_after_child_death_notification")) == [
        "ofsted",
        "secretary_of_state",
    ]
    assert len(addressees(incident=three_receipts["id"])) == 3
    assert addressees(incident="00000000-0000-0000-0000-000000000000") == []
    assert len(addressees(**{"from": today.isoformat(), "to": today.isoformat()})) == 3
    assert addressees(**{"to": (today - dt.timedelta(days=1)).isoformat()}) == []
    assert addressees(**{"from": (today + dt.timedelta(days=1)).isoformat()}) == []

    first = service.get("/api/v1/receipts", key, limit=2).get_json()
    assert [item["sequence"] for item in first["items"]] == [1, 2]
    rest = service.get("/api/v1/receipts", key, limit=2, cursor=first["next"]).get_json()
    assert [item["sequence"] for item in rest["items"]] == [3]
    assert rest["next"] is None


def raw_cursor(text: str) -> str:
    """``text`` encoded as a cursor is, whether or not this service could have issued it."""
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-24", "to": "2026-11-23"}, "to"),
        ({"document": "letter"}, "document"),
        ({"from": "23/11/2026"}, "from"),
        ({"cursor": "not-a-cursor"}, None),
        ({"cursor": raw_cursor('["receipts","abc"]')}, None),
        ({"cursor": raw_cursor(f'["receipts",{2**70}]')}, None),
        ({"cursor": raw_cursor(f'["receipts",{2**63}]')}, None),
        ({"cursor": raw_cursor('["receipts",0]')}, None),
        ({"cursor": raw_cursor('["receipts",-1]')}, None),
        ({"cursor": raw_cursor('["receipts",true]')}, None),
        ({"cursor": raw_cursor('["receipts",1.5]')}, None),
        ({"cursor": raw_cursor('["deliveries",1]')}, None),
        ({"cursor": raw_cursor("[" * 5000)}, None),
        ({"cursor": raw_cursor("[" * 300)}, None),
    ],
)
def test_bad_parameters_are_problems(service, params, field):
    response = service.get("/api/v1/receipts", service.key("compliance"), **params)
    assert response.status_code in (400, 422)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == response.status_code
    if "cursor" in params:
        assert response.status_code == 400
        assert problem["type"].endswith("bad-cursor")
    if field is not None:
        assert field in [error["field"] for error in problem["errors"]]


def test_one_receipt_is_the_file_that_verifies(service, three_receipts):
    key = service.key("compliance")
    item = service.get("/api/v1/receipts", key).get_json()["items"][0]
    response = service.get(f"/api/v1/receipts/{item['id']}", key)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert f"receipt-000001-{item['id']}.json" in response.headers["Content-Disposition"]
    document = response.get_json()
    assert set(document) == {"receipt", "jws"}
    receipt = document["receipt"]
    assert receipt["receipt_id"] == item["id"]
    assert receipt["sequence"] == 1
    assert receipt["delivery_id"] == item["delivery_id"]
    assert receipt["incident_reference"] == "NEL-2026-014"
    assert receipt["previous_receipt_sha256"] == "0" * 64


def test_the_zip_holds_every_receipt_of_the_incident_the_jwks_and_a_readme(service, three_receipts):
    other = acknowledged(service, make_record("NEL-2026-015"))
    key = service.key("compliance")
    response = service.get(f"/api/v1/incidents/{three_receipts['id']}/receipts.zip", key)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert 'filename="receipts-812-NEL-2026-014.zip"' in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert names[:2] == ["README.txt", "jwks.json"]
    rows = [row for row in receipt_rows(service) if row.incident_id == three_receipts["id"]]
    assert names[2:] == [f"receipt-{row.sequence:06d}-{row.id}.json" for row in rows]
    assert json.loads(archive.read("jwks.json")) == signing_keyring(service).jwks()
    for name, row in zip(names[2:], rows, strict=True):
        single = service.get(f"/api/v1/receipts/{row.id}", key)
        assert archive.read(name) == single.data
    readme = archive.read("README.txt").decode()
    assert "incident NEL-2026-014 (local authority 812)" in readme
    assert f"csins-adapter receipts verify {names[2]} --jwks jwks.json" in readme
    assert "jwcrypto" in readme and "RFC 8785" in readme
    assert other["id"] not in response.data.decode("latin-1")


def test_an_incident_without_receipts_gives_a_zip_saying_so(service):
    key = service.key("local_authority")
    incident = service.post("/api/v1/incidents", key, make_record()).get_json()
    response = service.get(
        f"/api/v1/incidents/{incident['id']}/receipts.zip", service.key("compliance")
    )
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.namelist() == ["README.txt", "jwks.json"]
    assert "0 receipt(s)" in archive.read("README.txt").decode()


def test_the_jwks_is_public_and_publishes_okp_ed25519_keys(service):
    response = service.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.mimetype == "application/jwk-set+json"
    assert "max-age" in response.headers["Cache-Control"]
    keys = response.get_json()["keys"]
    signer = signing_keyring(service)
    assert [key["kid"] for key in keys] == list(signer.public_keys)
    for key in keys:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
        assert key["use"] == "sig"
        assert "d" not in key


@pytest.mark.parametrize("role", ["local_authority", "agency"])
def test_only_compliance_and_admin_read_receipts(service, three_receipts, role):
    receipt_id = receipt_rows(service)[0].id
    key = service.key(role)
    for path in (
        "/api/v1/receipts",
        f"/api/v1/receipts/{receipt_id}",
        f"/api/v1/incidents/{three_receipts['id']}/receipts.zip",
    ):
        response = service.get(path, key)
        assert response.status_code == 403, path
        assert response.mimetype == "application/problem+json"


def test_a_key_is_needed(service, three_receipts):
    response = service.client.get("/api/v1/receipts")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ["compliance", "admin"])
def test_receipts_of_another_la_are_invisible(service, three_receipts, role):
    receipt_id = receipt_rows(service)[0].id
    other_la = service.key(role, la="813")
    listed = service.get("/api/v1/receipts", other_la)
    assert listed.status_code == 200
    assert listed.get_json() == {"items": [], "next": None}
    one = service.get(f"/api/v1/receipts/{receipt_id}", other_la)
    assert one.status_code == 404
    assert one.mimetype == "application/problem+json"
    archive = service.get(f"/api/v1/incidents/{three_receipts['id']}/receipts.zip", other_la)
    assert archive.status_code == 404
    assert audit_entries(service, "receipt.downloaded") == []
    assert audit_entries(service, "receipts.zip.downloaded") == []


def test_an_all_la_admin_sees_every_la(service, three_receipts):
    acknowledged(service, make_record("LA2-2026-001", la="813"))
    admin = service.key("admin", la="*")
    items = service.get("/api/v1/receipts", admin).get_json()["items"]
    assert sorted({item["local_authority_code"] for item in items}) == ["812", "813"]
    own = service.get("/api/v1/receipts", service.key("compliance", la="813")).get_json()
    assert [item["local_authority_code"] for item in own["items"]] == ["813"]


def test_downloads_are_audited(service, three_receipts):
    key = service.key("compliance")
    compliance_key_id = key_id(service, "compliance")
    row = receipt_rows(service)[1]
    assert service.get("/api/v1/receipts", key).status_code == 200
    assert audit_entries(service, "receipt.downloaded") == []  # listing is not a download

    assert service.get(f"/api/v1/receipts/{row.id}", key).status_code == 200
    (entry,) = audit_entries(service, "receipt.downloaded")
    assert (entry.la_code, entry.key_id, entry.actor_role) == (
        "812",
        compliance_key_id,
        "compliance",
    )
    assert (entry.object_type, entry.object_id) == ("receipt", row.id)
    assert entry.detail == {"format": "json", "via": "api", "sequence": 2}

    admin = service.key("admin")
    path = f"/api/v1/incidents/{three_receipts['id']}/receipts.zip"
    assert service.get(path, admin).status_code == 200
    (entry,) = audit_entries(service, "receipts.zip.downloaded")
    assert (entry.la_code, entry.key_id, entry.actor_role) == (
        "812",
        key_id(service, "admin"),
        "admin",
    )
    assert (entry.object_type, entry.object_id) == ("incident", three_receipts["id"])
    assert entry.detail == {"receipts": 3, "sequences": [1, 2, 3]}


def test_the_endpoints_are_documented(service):
    spec = service.client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    for path in (
        "/api/v1/receipts",
        "/api/v1/receipts/{receipt_id}",
        "/api/v1/incidents/{incident_id}/receipts.zip",
        "/.well-known/jwks.json",
    ):
        assert "get" in paths[path], path
    assert paths["/.well-known/jwks.json"]["get"]["security"] == []
    parameters = {p["name"] for p in paths["/api/v1/receipts"]["get"]["parameters"]}
    assert {"incident", "addressee", "document", "from", "to", "cursor", "limit"} <= parameters


def test_unknown_ids_are_404_problems(service):
    key = service.key("compliance")
    for path in (
        "/api/v1/receipts/00000000-0000-0000-0000-000000000000",
        "/api/v1/receipts/" + "x" * 80,
        "/api/v1/incidents/00000000-0000-0000-0000-000000000000/receipts.zip",
    ):
        response = service.get(path, key)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith(":not-found")
