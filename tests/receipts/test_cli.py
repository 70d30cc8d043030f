"""``csins-adapter receipts verify``: exit 0 and one ``valid`` line, else exit 1 and one reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter.cli.receipts import receipts
from adapter.receipts import SignedReceipt, build_checkpoint, load_keyring
from adapter.receipts.jws import b64url, b64url_decode
from tests.receipts.conftest import make_keyring


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(receipts, ["verify", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, document: object, name: str = "receipt.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_a_valid_receipt(tmp_path, receipt, jwks_file, keyring):
    code, out, err = run(write(tmp_path, receipt.to_json()), "--jwks", jwks_file)
    assert (code, err) == (0, "")
    assert out == (
        f"valid: receipt rcpt-0001 #1 incident_notification to panel, "
        f"acknowledged 2026-11-23T10:16:45Z, signed by {keyring.current_kid}\n"
    )


def test_a_valid_checkpoint(tmp_path, receipt, jwks_file, keyring):
    checkpoint = build_checkpoint(1, receipt.chain_hash, keyring)
    code, out, _ = run(write(tmp_path, checkpoint.to_json()), "--jwks", jwks_file)
    assert code == 0
    assert out.startswith(f"valid: checkpoint of 1 receipts, head {receipt.chain_hash}, issued ")


def test_a_jwks_from_a_url(tmp_path, receipt, jwks_server):
    code, out, _ = run(write(tmp_path, receipt.to_json()), "--jwks", f"{jwks_server}/jwks.json")
    assert code == 0 and out.startswith("valid: receipt")


def flip_signature(jws: str) -> str:
    header, payload, signature = jws.split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[5] ^= 0x04
    return f"{header}.{payload}.{b64url(bytes(flipped))}"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda f: f["receipt"].update(addressee="ofsted"), "invalid: altered field 'addressee': "),
        (lambda f: f["receipt"].pop("on_time"), "invalid: altered field 'on_time': "),
        (lambda f: f.update(jws=flip_signature(f["jws"])), "invalid: bad signature: "),
        (lambda f: f.pop("jws"), "invalid: malformed: the file has no 'jws'"),
        (
            lambda f: f.pop("receipt"),
            "invalid: malformed: the file has no 'receipt' or 'checkpoint'",
        ),
        (lambda f: f.update(extra=1), "invalid: malformed: unexpected key(s) extra"),
        (lambda f: f.update(jws="a.b!.c"), "invalid: malformed: 'jws' is not base64url"),
        (lambda f: f.update(receipt=[]), "invalid: malformed: 'receipt' is not a JSON object"),
    ],
)
def test_an_invalid_receipt_gives_one_line(tmp_path, receipt, jwks_file, tamper, reason):
    document = receipt.to_file()
    document = json.loads(json.dumps(document))
    tamper(document)
    code, out, err = run(write(tmp_path, document), "--jwks", jwks_file)
    assert (code, out) == (1, "")
    assert err.startswith(reason)
    assert err.count("\n") == 1


def test_an_unknown_key(tmp_path, receipt):
    other = write(tmp_path, make_keyring().jwks(), "other.json")
    code, _, err = run(write(tmp_path, receipt.to_json()), "--jwks", other)
    assert code == 1
    assert err.startswith("invalid: unknown key: kid ")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "invalid: malformed: "),
        ("[1, 2]", "invalid: malformed: expected a JSON object"),
        ("", "invalid: malformed: "),
    ],
)
def test_a_file_that_is_not_a_receipt(tmp_path, jwks_file, content, reason):
    code, _, err = run(write(tmp_path, content), "--jwks", jwks_file)
    assert code == 1 and err.startswith(reason)


def test_a_missing_file(tmp_path, jwks_file):
    code, _, err = run(tmp_path / "absent.json", "--jwks", jwks_file)
    assert code == 1 and err.startswith("invalid: cannot read")


@pytest.mark.parametrize(
    ("jwks", "reason"),
    [("{oops", "invalid: malformed JWKS: "), ('{"keys": 3}', "invalid: malformed JWKS: ")],
)
def test_a_malformed_jwks(tmp_path, receipt, jwks, reason):
    code, _, err = run(
        write(tmp_path, receipt.to_json()), "--jwks", write(tmp_path, jwks, "k.json")
    )
    assert code == 1 and err.startswith(reason)


def test_an_unreachable_jwks_url(tmp_path, receipt):
    code, _, err = run(write(tmp_path, receipt.to_json()), "--jwks", "http://127.0.0.1:9/jwks.json")
    assert code == 1 and err.startswith("invalid: cannot fetch JWKS from http://127.0.0.1:9/")


def test_a_real_process(tmp_path, receipt, jwks_file):
    """The command as a compliance officer runs it: exit codes and one line, no traceback."""
    good = write(tmp_path, receipt.to_json())
    document = receipt.to_file()
    bad = write(
        tmp_path, {**document, "receipt": {**document["receipt"], "attempts": 1}}, "bad.json"
    )
    script = "from adapter.cli.receipts import receipts; receipts(prog_name='receipts')"
    outcomes = [
        subprocess.run(
            [sys.executable, "-c", script, "verify", str(path), "--jwks", str(jwks_file)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for path in (good, bad)
    ]
    assert outcomes[0].returncode == 0 and outcomes[0].stdout.startswith("valid: receipt rcpt-0001")
    assert outcomes[1].returncode == 1
    assert outcomes[1].stderr == (
        "invalid: altered field 'attempts': the readable copy says 1, the signed one 2\n"
    )


def test_the_receipt_file_shape(receipt):
    assert SignedReceipt.from_jws(receipt.jws).to_file()["jws"] == receipt.jws


def test_a_folder_is_not_a_receipt(tmp_path, jwks_file):
    code, _, err = run(tmp_path, "--jwks", jwks_file)
    assert code == 1 and err.startswith("invalid: cannot read")


def test_the_default_jwks_is_the_local_service():
    result = CliRunner().invoke(receipts, ["verify", "--help"])
    assert result.exit_code == 0
    assert "http://127.0.0.1:8000/.well-known/jwks.json" in result.stdout


def test_a_deeply_nested_file_is_malformed_not_a_crash(tmp_path, jwks_file):
    code, _, err = run(write(tmp_path, "[" * 100_000 + "]" * 100_000), "--jwks", jwks_file)
    assert code == 1 and err.startswith("invalid: malformed: ")


def test_new_key_rotates_and_prints_the_kid_last(tmp_path):
    first = CliRunner().invoke(receipts, ["new-key", str(tmp_path / "keys")])
    second = CliRunner().invoke(receipts, ["new-key", str(tmp_path / "keys")])
    assert first.exit_code == second.exit_code == 0
    kids = [r.stdout.splitlines()[-1] for r in (first, second)]
    keyring = load_keyring(tmp_path, keys_dir=tmp_path / "keys")
    assert keyring.current_kid == kids[1]
    assert list(keyring.public_keys) == [kids[1], kids[0]]


def test_a_receipt_file_repeating_a_key_is_refused(tmp_path, receipt, jwks_file):
    """A parser keeps the last of two equal keys: a file could show a reader a forged receipt
    first and the genuine one to the verifier. Such a file is malformed."""
    genuine = json.loads(receipt.to_json())
    forged = dict(genuine["receipt"], on_time=True, addressee_reference="FORGED")
    text = (
        '{"receipt": '
        + json.dumps(forged)
        + ', "receipt": '
        + json.dumps(genuine["receipt"])
        + ', "jws": '
        + json.dumps(genuine["jws"])
        + "}"
    )
    code, _, err = run(write(tmp_path, text), "--jwks", jwks_file)
    assert code == 1 and err.startswith("invalid: malformed: ") and "repeats the key" in err


@pytest.mark.parametrize(
    "secret",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "X25519", "x": "AAAA", "d": "AAAA"},
    ],
    ids=["symmetric key", "X25519 private key"],
)
def test_a_jwks_publishing_a_secret_of_any_type_is_refused(tmp_path, receipt, jwks_file, secret):
    jwks = json.loads(Path(jwks_file).read_text())
    jwks["keys"].append(secret)
    code, _, err = run(
        write(tmp_path, receipt.to_json()), "--jwks", write(tmp_path, json.dumps(jwks), "k.json")
    )
    assert code == 1 and "private or secret key" in err
