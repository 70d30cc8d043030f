"""What a 2xx body tells the https channel (DESIGN.md §6: "a JSON body may carry the addressee's
``reference``"), read from a real addressee on 127.0.0.1 answering bodies the sandbox never sends.

A reference is kept only as the receipt can hold it (1-200 characters, schemas/receipt.py);
anything else is acknowledged without one, so that recording the acknowledgement cannot fail and
the delivery is not sent again and again.
"""

from __future__ import annotations

import json

import pytest

from adapter.delivery import OutcomeKind
from adapter.delivery.signing import Scheme
from tests.delivery.helpers import ScriptedAddressee, make_delivery, quick, sandbox_channel


def acknowledged_reference(addressee: ScriptedAddressee, body: bytes) -> tuple[str | None, str]:
    """Send once to ``addressee`` answering 200 ``body``: the reference kept, and the detail."""
    addressee.answer = (200, "application/json", body)
    channel = sandbox_channel(addressee.url, scheme=Scheme.V1A, retry=quick(3), https=True)
    outcome = channel.send(make_delivery())
    assert (outcome.kind, outcome.status, outcome.tries) == (OutcomeKind.ACKNOWLEDGED, 200, 1)
    assert addressee.requests == 1
    return outcome.reference, outcome.detail


@pytest.mark.parametrize(
    ("reference", "kept"),
    [
        ("PANEL-77", "PANEL-77"),
        ("  PANEL-77\n", "PANEL-77"),
        ("R" * 200, "R" * 200),
        ("", None),
        ("   ", None),
        (1234, "1234"),
        (0, "0"),
        (-7, "-7"),
        (True, None),  # bool is an int, but not a reference
        (False, None),
        (1.5, None),
        ({"id": "X"}, None),
        (["X"], None),
        (None, None),
    ],
)
def test_a_reference_the_receipt_can_hold_is_kept(addressee, reference, kept):
    body = json.dumps({"reference": reference}).encode()
    assert acknowledged_reference(addressee, body)[0] == kept


@pytest.mark.parametrize(
    "reference",
    ["R" * 201, "R" * 60_000, int("9" * 201)],
    ids=["201-chars", "60k-chars", "201-digits"],
)
def test_a_reference_too_long_for_the_receipt_is_noted_not_cut(addressee, reference):
    body = json.dumps({"reference": reference}).encode()
    kept, detail = acknowledged_reference(addressee, body)
    assert kept is None  # cut, it would name another document of the addressee's
    assert "reference" in detail and "over 200" in detail
    assert "RRRR" not in detail and "9999" not in detail


@pytest.mark.parametrize(
    "body",
    [
        b'{"reference": ' + b"9" * 5000 + b"}",  # beyond int()'s 4300-digit limit: ValueError
        b'{"reference": "R", "x": ' + b"[" * 50_000 + b"]" * 10 + b"}",  # RecursionError
        b'{"reference": "R"',
        b"\xff\xfe not utf-8",
        b'["R"]',
    ],
    ids=["5000-digit-int", "deep-nesting", "truncated", "not-utf-8", "not-an-object"],
)
def test_a_body_that_is_not_a_json_object_is_acknowledged_without_a_reference(addressee, body):
    assert acknowledged_reference(addressee, body)[0] is None


def test_a_reference_in_a_body_that_is_not_json_is_not_read(addressee):
    addressee.answer = (200, "text/plain", b'{"reference": "R-1"}')
    outcome = sandbox_channel(addressee.url, https=True).send(make_delivery())
    assert (outcome.kind, outcome.reference) == (OutcomeKind.ACKNOWLEDGED, None)
