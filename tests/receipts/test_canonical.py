"""RFC 8785 canonical form: the readable copy's key order, spacing and escaping never matter."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.receipts import SignedReceipt, sign_receipt, verify_receipt
from adapter.receipts.jws import canonical
from schemas.receipt import ReceiptSchema
from tests.receipts.conftest import make_log

FIELDS = sorted(ReceiptSchema().fields)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def signed(keyring):
    return make_log(1, keyring)[0]


def reorder(value: Any, order: Callable[[list[str]], list[str]]) -> Any:
    """``value`` with every object's keys in the order ``order`` gives (recursively)."""
    if isinstance(value, dict):
        return {k: reorder(value[k], order) for k in order(list(value))}
    if isinstance(value, list):
        return [reorder(item, order) for item in value]
    return value


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_any_json_object_is_canonical_whatever_its_key_order(document):
    assert canonical(reorder(document, lambda keys: keys[::-1])) == canonical(document)
    assert canonical(reorder(document, sorted)) == canonical(document)


@settings(max_examples=50, deadline=None)
@given(order=st.permutations(FIELDS), indent=st.sampled_from([None, 1, 4]))
def test_a_receipt_file_verifies_whatever_its_key_order_and_layout(keyring, signed, order, indent):
    readable = {field: signed.content[field] for field in order}
    text = json.dumps({"jws": signed.jws, "receipt": readable}, indent=indent, ensure_ascii=True)
    document = json.loads(text)
    assert canonical(document["receipt"]) == canonical(signed.content)
    verified = verify_receipt(
        SignedReceipt(document["receipt"], document["jws"]), keyring.public_keys
    )
    assert verified.content == signed.content


@settings(max_examples=50, deadline=None)
@given(order=st.permutations(FIELDS))
def test_signing_does_not_depend_on_the_key_order_it_was_given(keyring, signed, order):
    readable = {field: signed.content[field] for field in order}
    assert sign_receipt(readable, keyring).jws == signed.jws
