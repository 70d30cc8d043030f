"""One incident reference, one spelling (§4: one notification per reference).

References are typed, pasted from case systems and exported from spreadsheets, so the same
reference arrives in forms a person cannot tell apart: ``REF-1`` with a Unicode hyphen (U+2010)
or in full-width letters (U+FF32 ...), with a zero-width space inside or a right-to-left override in
front. Each was a separate incident, and each was notified to the Panel again.
:func:`normalise_reference` gives every reference its one form before it is compared or stored:

- Unicode compatibility normalisation (NFKC): full-width and other compatibility forms become
  the characters they stand for;
- every dash (Unicode category Pd, and the minus signs) becomes the ASCII hyphen ``-``;
- runs of white space become one space, and the ends are stripped;
- invisible characters are refused, not removed: format characters (category Cf: zero-width
  spaces and joiners, soft hyphens, the bidirectional controls), control characters (Cc) and
  lone surrogates (Cs). A reference carrying one was not typed as it looks, so the sender is
  told which character (by code point) rather than guessed at.

Used by the record schema (API, imports, ``plan``) and the export converter alike.
"""

from __future__ import annotations

import unicodedata

_MINUS_SIGNS = frozenset("\u2212\u2796\u02d7\u2043\ufe63\uff0d")
"""Characters drawn as a dash that Unicode does not class as dashes (Pd): the minus signs,
the modifier letter minus and the hyphen bullet."""

_REFUSED = frozenset({"Cc", "Cf", "Cs"})
"""Categories of character a reference may not carry: they cannot be seen."""


def _is_dash(char: str) -> bool:
    return char in _MINUS_SIGNS or unicodedata.category(char) == "Pd"


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that a reference may not carry, described by its code
    point and name (``U+200B ZERO WIDTH SPACE``), or None."""
    for char in text:
        if unicodedata.category(char) in _REFUSED:
            name = unicodedata.name(char, "a control character")
            return f"U+{ord(char):04X} {name}"
    return None


def normalise_reference(text: str) -> str:
    """``text`` in its one form (see the module); raises ``ValueError`` naming the first
    invisible character it carries (leading and trailing white space is simply stripped)."""
    stripped = text.strip()
    found = invisible_character(stripped)
    if found is not None:
        raise ValueError(
            f"contains {found}, an invisible format or control character: a reference must be "
            "typed as it reads (remove the character and send it again)"
        )
    composed = unicodedata.normalize("NFKC", stripped)
    if composed.isascii():  # the usual case, and the only one without dashes to map
        return " ".join(composed.split())
    dashed = "".join("-" if _is_dash(char) else char for char in composed)
    found = invisible_character(dashed)
    if found is not None:  # NFKC made one (no such character today; guard the promise)
        raise ValueError(f"contains {found} once normalised: a reference must be typed as it reads")
    return " ".join(dashed.split())
