"""The receipt log as a hash chain with signed checkpoints: every kind of tampering, located."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from adapter.errors import InvalidRecord
from adapter.receipts import (
    GENESIS_SHA256,
    ChainBreak,
    SignedCheckpoint,
    SignedReceipt,
    SigningKeyring,
    build_checkpoint,
    issue_receipt,
    sign_receipt,
    verify_chain,
    verify_checkpoint,
)
from adapter.receipts.chain import chain_hash
from adapter.receipts.jws import b64url, b64url_decode
from tests.receipts.conftest import ISSUED_AT, make_facts, make_keyring, make_log


def broken_at(*args: Any, **kwargs: Any) -> ChainBreak:
    """The break :func:`verify_chain` reports (failing the test when it reports none)."""
    broken = verify_chain(*args, **kwargs)
    assert broken is not None
    return broken


@pytest.fixture(scope="module")
def log(keyring):
    return make_log(10, keyring)


def test_an_intact_log_verifies(keyring, log):
    assert verify_chain(log, [], keyring.public_keys) is None


def test_each_receipt_links_to_the_one_before(log):
    assert log[0].content["previous_receipt_sha256"] == GENESIS_SHA256
    for before, after in itertools.pairwise(log):
        assert after.content["previous_receipt_sha256"] == chain_hash(before)


def test_an_empty_log_verifies(keyring):
    assert (
        verify_chain([], [build_checkpoint(0, GENESIS_SHA256, keyring)], keyring.public_keys)
        is None
    )


def test_a_deleted_receipt_is_a_gap(keyring, log):
    broken = broken_at(log[:4] + log[5:], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (5, "missing")
    assert "#5 is missing" in broken.reason


def test_a_deleted_first_receipt_is_a_gap(keyring, log):
    broken = broken_at(log[1:], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (1, "missing")


def test_reordered_receipts_are_out_of_order(keyring, log):
    broken = broken_at([*log[:4], log[5], log[4], *log[6:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (5, "out_of_order")


def test_a_repeated_receipt_is_a_duplicate(keyring, log):
    broken = broken_at([*log[:6], log[5], *log[6:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (7, "duplicate")


def test_an_edited_readable_copy_is_an_altered_field(keyring, log):
    edited = dataclasses.replace(log[4], content={**log[4].content, "addressee": "ofsted"})
    broken = broken_at([*log[:4], edited, *log[5:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (5, "altered")
    assert "'addressee'" in broken.reason


def test_an_edited_signed_receipt_is_a_bad_signature(keyring, log):
    header, payload, signature = log[4].jws.split(".")
    flipped = bytearray(b64url_decode(signature))
    flipped[0] ^= 0x80
    forged = dataclasses.replace(log[4], jws=f"{header}.{payload}.{b64url(bytes(flipped))}")
    broken = broken_at([*log[:4], forged, *log[5:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (5, "signature")


def test_a_receipt_resigned_by_an_outsider_is_an_unknown_key(keyring, log):
    forged = sign_receipt({**log[4].content, "on_time": True}, make_keyring())
    broken = broken_at([*log[:4], forged, *log[5:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (5, "unknown_key")


def test_a_receipt_edited_and_resigned_by_an_insider_breaks_the_next_link(keyring, log):
    forged = sign_receipt({**log[4].content, "attempts": 1}, keyring)
    broken = broken_at([*log[:4], forged, *log[5:]], [], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (6, "link")
    assert "receipt #5" in broken.reason


def rewrite_tail(
    log: list[SignedReceipt], keyring: SigningKeyring, start: int
) -> list[SignedReceipt]:
    """Re-issue receipts ``start``.. with other content, consistently chained and signed."""
    previous = log[start - 2].chain_hash if start > 1 else GENESIS_SHA256
    tail = []
    for signed in log[start - 1 :]:
        sequence = signed.content["sequence"]
        forged = issue_receipt(
            make_facts(delivery_id=f"dlv-{sequence:04d}", addressee="dfe"),
            sequence=sequence,
            previous_receipt_sha256=previous,
            keyring=keyring,
            receipt_id=signed.content["receipt_id"],
            issued_at=ISSUED_AT,
        )
        tail.append(forged)
        previous = forged.chain_hash
    return log[: start - 1] + tail


def test_a_rewritten_tail_passes_the_chain_alone(keyring, log):
    assert verify_chain(rewrite_tail(log, keyring, 8), [], keyring.public_keys) is None


def test_a_rewritten_tail_fails_the_checkpoint(keyring, log):
    checkpoint = build_checkpoint(9, log[8].chain_hash, keyring)
    broken = broken_at(rewrite_tail(log, keyring, 8), [checkpoint], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (9, "checkpoint")
    assert "from #1 to #9 was rewritten" in broken.reason


def test_an_earlier_matching_checkpoint_narrows_the_rewrite(keyring, log):
    checkpoints = [
        build_checkpoint(9, log[8].chain_hash, keyring),
        build_checkpoint(5, log[4].chain_hash, keyring),
    ]
    broken = broken_at(rewrite_tail(log, keyring, 8), checkpoints, keyring.public_keys)
    assert (broken.sequence, broken.kind) == (9, "checkpoint")
    assert "from #6 to #9 was rewritten" in broken.reason


def test_a_truncated_log_fails_the_checkpoint(keyring, log):
    checkpoint = build_checkpoint(10, log[9].chain_hash, keyring)
    broken = broken_at(log[:8], [checkpoint], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (9, "missing")
    assert "#9 to #10 are missing" in broken.reason


def test_matching_checkpoints_pass(keyring, log):
    checkpoints = [build_checkpoint(n, log[n - 1].chain_hash, keyring) for n in (3, 10)]
    assert verify_chain(log, checkpoints, keyring.public_keys) is None


def test_a_checkpoint_forged_with_another_key_is_reported(keyring, log):
    forged = build_checkpoint(10, log[9].chain_hash, make_keyring())
    broken = broken_at(log, [forged], keyring.public_keys)
    assert (broken.sequence, broken.kind) == (10, "checkpoint")
    assert "unknown key" in broken.reason


def test_a_checkpoint_with_an_edited_readable_copy_is_reported(keyring, log):
    genuine = build_checkpoint(10, log[9].chain_hash, keyring)
    forged = dataclasses.replace(genuine, content={**genuine.content, "size": 7})
    broken = broken_at(log, [forged], keyring.public_keys)
    assert broken.kind == "checkpoint"
    assert "altered field 'size'" in broken.reason


def test_a_checkpoint_verifies_on_its_own(keyring, log):
    checkpoint = build_checkpoint(10, log[9].chain_hash, keyring, issued_at=ISSUED_AT)
    verified = verify_checkpoint(checkpoint, keyring.public_keys)
    assert verified.content == {
        "version": "1",
        "size": 10,
        "head_sha256": log[9].chain_hash,
        "issued_at": "2026-11-23T10:20:00Z",
    }
    assert checkpoint.jws.count(".") == 2
    assert isinstance(checkpoint, SignedCheckpoint)


@pytest.mark.parametrize(("size", "head"), [(-1, GENESIS_SHA256), (3, "xyz"), (0, "a" * 64)])
def test_a_malformed_checkpoint_is_not_built(keyring, size, head):
    with pytest.raises(InvalidRecord):
        build_checkpoint(size, head, keyring)


def test_a_receipt_is_not_a_checkpoint(keyring, log):
    disguised = SignedCheckpoint(log[0].content, log[0].jws)
    broken = broken_at(log, [disguised], keyring.public_keys)
    assert broken.kind == "checkpoint"
    assert "type" in broken.reason


def test_an_audit_may_start_mid_log(keyring, log):
    checkpoint = build_checkpoint(5, log[4].chain_hash, keyring)
    assert (
        verify_chain(
            log[5:],
            [checkpoint],
            keyring.public_keys,
            first_sequence=6,
            previous_sha256=log[4].chain_hash,
        )
        is None
    )
    broken = broken_at(
        log[5:], [], keyring.public_keys, first_sequence=6, previous_sha256=log[3].chain_hash
    )
    assert (broken.sequence, broken.kind) == (6, "link")


def test_receipts_may_stream_from_an_iterator(keyring, log):
    assert verify_chain(iter(log), (), keyring.public_keys) is None
    broken = broken_at(iter(log[:2] + log[3:]), (), keyring.public_keys)
    assert (broken.sequence, broken.kind) == (3, "missing")


def test_a_receipt_from_its_jws_alone(keyring, log):
    rebuilt = SignedReceipt.from_jws(log[3].jws)
    assert rebuilt == log[3]
    assert isinstance(rebuilt, SignedReceipt)
