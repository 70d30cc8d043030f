"""The whole journey: an export through the API, delivered to the sandbox, filed and verified.

A local authority uploads the sample Mosaic export; the worker delivers every document to the
sandbox receiver; a compliance officer signs in to the pages, finds every receipt verified,
downloads one, and verifies it offline with ``csins-adapter receipts verify`` and the JWKS.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from adapter.cli import main
from adapter.receipts import load_keyring
from tests.conftest import SAMPLES
from tests.support.service import Service
from tests.web.conftest import sign_in
from tests.web.test_queues import plain, text


def test_an_export_is_delivered_and_its_receipts_verify_offline(
    service: Service, tmp_path: Path
) -> None:
    key = service.key("local_authority", "812")
    content = (SAMPLES / "mosaic_incidents.csv").read_bytes()
    response = service.client.post(
        "/api/v1/imports",
        data={"file": (io.BytesIO(content), "mosaic_incidents.csv")},
        headers=service.headers(key),
        content_type="multipart/form-data",
    )
    assert response.status_code == 202, response.get_json()
    service.work()  # the import's job, then the deliveries it queued
    received = service.sandbox.state.stats()["addressees"]
    delivered = sum(entry["count"] for entry in received.values())
    assert delivered > 0

    client = service.app.test_client()
    assert sign_in(client, service.key("compliance", "812")).status_code == 302
    dashboard = plain(text(client.get("/admin/")))
    assert "delivery has failed" not in dashboard and "deliveries have failed" not in dashboard
    page = text(client.get("/admin/receipts"))
    assert page.count("Verified</strong>") == delivered and "Not verified" not in page

    receipt_id = re.search(r"/admin/receipts/([0-9a-f-]{36})/download", page)
    assert receipt_id
    download = client.get(f"/admin/receipts/{receipt_id.group(1)}/download")
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_bytes(download.get_data())
    jwks_file = tmp_path / "jwks.json"
    keyring = load_keyring(service.settings.data_dir)
    jwks_file.write_text(json.dumps(keyring.jwks()), encoding="utf-8")

    result = CliRunner().invoke(
        main, ["receipts", "verify", str(receipt_file), "--jwks", str(jwks_file)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"valid: receipt {receipt_id.group(1)} ")
