"""Look-alike references (§4: one notification per reference; issue 19 item 1).

``REF-1``, the same with a Unicode hyphen (U+2010) or in full-width letters are one reference; a
zero-width space or a bidirectional override is refused with a field error naming its code point.
"""

from __future__ import annotations

import sys
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.fields import flatten
from schemas.incident import IncidentRecordSchema
from schemas.references import normalise_reference

LOOK_ALIKES = [
    "REF-1",
    "REF\u20101",  # HYPHEN
    "REF\u20111",  # NON-BREAKING HYPHEN
    "REF\u20131",  # EN DASH
    "REF\u20141",  # EM DASH
    "REF\u22121",  # MINUS SIGN
    "REF\ufe631",  # SMALL HYPHEN-MINUS
    "\uff32\uff25\uff26-1",  # full-width letters
    "\uff32\uff25\uff26\uff0d\uff11",  # full-width throughout
    " REF-1 ",
]

INVISIBLE = [
    ("REF-\u200b1", "U+200B"),  # ZERO WIDTH SPACE
    ("\u202eREF-1", "U+202E"),  # RIGHT-TO-LEFT OVERRIDE
    ("REF-1\u2066", "U+2066"),  # LEFT-TO-RIGHT ISOLATE
    ("REF\u00ad-1", "U+00AD"),  # SOFT HYPHEN
    ("REF-\u200d1", "U+200D"),  # ZERO WIDTH JOINER
    ("REF-1\ufeff2", "U+FEFF"),  # ZERO WIDTH NO-BREAK SPACE
    ("REF\x00-1", "U+0000"),  # a control character
    ("REF\u061c-1", "U+061C"),  # ARABIC LETTER MARK
]


def _with_reference(record: dict[str, Any], reference: str) -> dict[str, Any]:
    record["incident"]["reference"] = reference
    return record


@pytest.mark.parametrize("reference", LOOK_ALIKES)
def test_look_alike_references_load_as_one(sample_record, reference):
    loaded = IncidentRecordSchema().load(_with_reference(sample_record, reference))
    assert loaded["incident"]["reference"] == "REF-1"


@pytest.mark.parametrize(("reference", "code_point"), INVISIBLE)
def test_an_invisible_character_is_refused_naming_field_and_code_point(
    sample_record, reference, code_point
):
    with pytest.raises(ValidationError) as caught:
        IncidentRecordSchema().load(_with_reference(sample_record, reference))
    messages = dict(flatten(caught.value.messages))
    assert list(messages) == ["incident.reference"]
    assert code_point in messages["incident.reference"]


def test_a_stored_record_keeps_loading_under_its_stored_reference(sample_record):
    """Records stored before the rule load as they were (DESIGN.md: no new rules on reading)."""
    stored = _with_reference(sample_record, "REF\u2010\u200b1")
    loaded = IncidentRecordSchema(stored=True).load(stored)
    assert loaded["incident"]["reference"] == "REF\u2010\u200b1"
    # ... and the next load of a new record is not left in the stored mode.
    with pytest.raises(ValidationError):
        IncidentRecordSchema().load(stored)


def test_runs_of_white_space_inside_are_one_space():
    assert normalise_reference("REF\u00a0 \u30001") == "REF 1"


_ANY_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",))


@given(st.text(_ANY_CHAR, max_size=30))
def test_normalising_is_idempotent_and_leaves_nothing_invisible_or_dashed(text: str) -> None:
    try:
        once = normalise_reference(text)
    except ValueError as error:
        assert "U+" in str(error)
        return
    assert normalise_reference(once) == once
    assert unicodedata.normalize("NFKC", once) == once
    assert once == once.strip()
    assert "  " not in once
    for char in once:
        assert unicodedata.category(char) not in ("Cc", "Cf", "Cs")
        assert char == "-" or unicodedata.category(char) != "Pd"


@given(
    st.text(st.characters(categories=("Lu", "Nd")), min_size=1, max_size=8),
    st.sampled_from(
        [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Pd"]
    ),
    st.text(st.characters(categories=("Lu", "Nd")), min_size=1, max_size=8),
)
def test_every_dash_is_the_ascii_hyphen(left: str, dash: str, right: str) -> None:
    expected = normalise_reference(f"{left}-{right}")
    assert normalise_reference(f"{left}{dash}{right}") == expected


@given(
    st.sampled_from([c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"])
)
def test_every_format_character_is_refused_by_code_point(code: int) -> None:
    with pytest.raises(ValueError, match=f"U\\+{code:04X}"):
        normalise_reference(f"REF{chr(code)}1")
