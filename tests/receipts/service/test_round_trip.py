"""Sign in the worker, download through the API, verify offline with the CLI and the JWKS (§6).

What a compliance officer does: download a receipt (or an incident's zip) and the published
JWKS, then run ``csins-adapter receipts verify FILE --jwks jwks.json`` on a machine that has
nothing else of the service.
"""

from __future__ import annotations

import io
import json
import re
import textwrap
import zipfile
from collections.abc import Callable

import pytest

from adapter.receipts import SigningKeyring, create_signing_key, sign_receipt
from adapter.receipts.jws import b64url_decode
from tests.receipts.conftest import make_keyring
from tests.receipts.service.conftest import (
    acknowledged,
    cli,
    download,
    make_record,
    read_file,
    restart,
    save_jwks,
    service_env,
    signing_keyring,
    use_keys_dir,
)


def kid_of(jws: str) -> str:
    header = json.loads(b64url_decode(jws.split(".")[0]))
    kid: str = header["kid"]
    return kid


def test_a_receipt_round_trips_from_the_worker_to_the_cli(service, tmp_path):
    incident = acknowledged(service)
    key = service.key("compliance")
    (item,) = service.get("/api/v1/receipts", key).get_json()["items"]
    (delivery,) = incident["deliveries"]
    assert item["delivery_id"] == delivery["id"]

    receipt_file = download(service, key, item["id"], tmp_path / "receipt.json")
    jwks_file = save_jwks(service, tmp_path / "jwks.json")
    code, out, err = cli("verify", receipt_file, "--jwks", jwks_file)

    assert (code, err) == (0, "")
    content = read_file(receipt_file).content
    kid = signing_keyring(service).current_kid
    assert out == (
        f"valid: receipt {item['id']} #1 incident_notification to panel, "
        f"acknowledged {content['acknowledged_at']}, signed by {kid}\n"
    )
    assert content["delivery_id"] == delivery["id"]
    # What the addressee received, as it recorded it: the receipt hashes exactly those bytes.
    received = service.sandbox.state.stats()["addressees"]["panel"]["received"][delivery["id"]]
    assert content["payload_sha256"] == received["sha256"]
    assert content["addressee_reference"] == received["reference"]
    assert content["local_authority_code"] == "812"


def test_the_files_of_the_zip_verify_as_they_are(service, tmp_path, monkeypatch):
    incident = acknowledged(service, make_record(looked_after=True))
    response = service.get(
        f"/api/v1/incidents/{incident['id']}/receipts.zip", service.key("compliance")
    )
    folder = tmp_path / "unzipped"
    zipfile.ZipFile(io.BytesIO(response.data)).extractall(folder)
    receipts = sorted(folder.glob("receipt-*.json"))
    assert len(receipts) == 3

    for path in receipts:
        code, out, err = cli("verify", path, "--jwks", folder / "jwks.json")
        assert (code, err) == (0, ""), path.name
        assert out.startswith("valid: receipt ")

    # The README's generic-JOSE recipe, run as written, on each file.
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    after = readme.split("Python (pip install jwcrypto rfc8785):\n", 1)[1].lstrip("\n")
    recipe = textwrap.dedent(after.split("\n\n", 1)[0])
    assert "token.verify(" in recipe
    monkeypatch.chdir(folder)
    for path in receipts:
        exec(recipe.replace(receipts[0].name, path.name), {})  # the README's own recipe


def flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by another of the same alphabet."""
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


def in_jws(part: int, offset: int) -> Callable[[str], str]:
    def tamper(text: str) -> str:
        jws = json.loads(text)["jws"]
        start = text.index(jws) + sum(len(p) + 1 for p in jws.split(".")[:part])
        return flip(text, start + offset)

    return tamper


def in_readable(field: str, new_value: str) -> Callable[[str], str]:
    def tamper(text: str) -> str:
        match = re.search(rf'"{field}": "([^"]*)"', text)
        assert match is not None
        old = match.group(1)
        changed = next(i for i, (a, b) in enumerate(zip(old, new_value, strict=True)) if a != b)
        index = match.start(1) + changed
        assert (
            len(old) == len(new_value)
            and sum(a != b for a, b in zip(old, new_value, strict=True)) == 1
        )
        return text[:index] + new_value[changed] + text[index + 1 :]

    return tamper


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            in_readable("addressee", "panal"),
            "invalid: altered field 'addressee': "
            'the readable copy says "panal", the signed one "panel"',
        ),
        (
            in_readable("incident_reference", "NEL-2026-015"),
            "invalid: altered field 'incident_reference'",
        ),
        (in_jws(2, 10), "invalid: bad signature"),
        (in_jws(1, 20), "invalid: bad signature"),
    ],
    ids=["readable-addressee", "readable-reference", "jws-signature", "jws-payload"],
)
def test_one_altered_byte_fails_with_a_clear_reason(service, tmp_path, tamper, reason):
    acknowledged(service)
    key = service.key("compliance")
    (item,) = service.get("/api/v1/receipts", key).get_json()["items"]
    original = download(service, key, item["id"], tmp_path / "receipt.json").read_text()
    tampered = tamper(original)
    assert sum(a != b for a, b in zip(original, tampered, strict=True)) == 1
    path = tmp_path / "tampered.json"
    path.write_text(tampered)

    code, out, err = cli("verify", path, "--jwks", save_jwks(service, tmp_path / "jwks.json"))

    assert (code, out) == (1, "")
    assert err.startswith(reason), err
    assert err.count("\n") == 1


def test_a_receipt_signed_with_a_key_not_in_the_jwks_is_refused(service, tmp_path):
    acknowledged(service)
    key = service.key("compliance")
    (item,) = service.get("/api/v1/receipts", key).get_json()["items"]
    genuine = read_file(download(service, key, item["id"], tmp_path / "receipt.json"))
    forger = make_keyring()
    forged = sign_receipt(genuine.content, forger)
    path = tmp_path / "forged.json"
    path.write_text(forged.to_json())

    code, out, err = cli("verify", path, "--jwks", save_jwks(service, tmp_path / "jwks.json"))

    assert (code, out) == (1, "")
    assert err.startswith("invalid: unknown key")
    assert forger.current_kid in err


def test_rotation_keeps_old_receipts_valid_and_signs_new_ones_with_the_new_key(service, tmp_path):
    keys_dir = tmp_path / "signing-keys"
    old_kid = create_signing_key(keys_dir)
    use_keys_dir(service, keys_dir)
    acknowledged(service, make_record("NEL-2026-014"))

    new_kid = create_signing_key(keys_dir)  # what `csins-adapter receipts new-key` does
    restart(service)
    acknowledged(service, make_record("NEL-2026-015"))

    key = service.key("compliance")
    old_item, new_item = service.get("/api/v1/receipts", key).get_json()["items"]
    old_file = download(service, key, old_item["id"], tmp_path / "old.json")
    new_file = download(service, key, new_item["id"], tmp_path / "new.json")
    assert kid_of(read_file(old_file).jws) == old_kid
    assert kid_of(read_file(new_file).jws) == new_kid

    jwks_file = save_jwks(service, tmp_path / "jwks.json")
    published = [key["kid"] for key in json.loads(jwks_file.read_text())["keys"]]
    assert published == [new_kid, old_kid]
    assert sorted(path.name for path in keys_dir.iterdir()) == [
        "receipt-key-0001.pub.pem",
        "receipt-key-0002.pem",
    ]
    for path, kid in ((old_file, old_kid), (new_file, new_kid)):
        code, out, err = cli("verify", path, "--jwks", jwks_file)
        assert (code, err) == (0, "")
        assert out.endswith(f"signed by {kid}\n")

    # The chain runs across the rotation: receipt 2 (new key) links to receipt 1 (old key).
    assert read_file(new_file).content["previous_receipt_sha256"] == read_file(old_file).chain_hash
    assert cli("audit", env=service_env(service))[:2] == (0, "intact: 2 receipts, 0 checkpoints\n")


def test_the_worker_and_the_web_use_the_same_keys(service):
    acknowledged(service)
    jwks = service.client.get("/.well-known/jwks.json").get_json()
    worker_keys: SigningKeyring = service._context.signer
    assert [key["kid"] for key in jwks["keys"]] == [worker_keys.current_kid]
