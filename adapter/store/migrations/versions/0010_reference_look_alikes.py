"""Report stored incident references that are now one reference (issue 19, DESIGN.md §4).

Since this release a reference is normalised where it enters (:mod:`schemas.references`: NFKC,
every dash the ASCII hyphen, one space, no invisible characters), so ``REF-1`` and the same with
a Unicode hyphen (U+2010) are one incident. Incidents stored before may hold two such references
in one LA: two notifications of what was one incident. A migration cannot tell which is right,
and must never merge or rewrite a statutory record, so this one changes nothing: it logs
(warning, logger ``adapter.store.migrations``) each LA's stored references that now collide, by
incident id, for a person to review, and how many stored references are not in the normal form.
Stored records keep loading under the reference they were stored with.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op

from schemas.references import invisible_character, normalise_reference

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOG = logging.getLogger("adapter.store.migrations")


def reference_key(reference: str) -> str:
    """The one form of a stored ``reference``; one with invisible characters is keyed as it
    would read without them (the rule now refuses it, but it collides with what it shows)."""
    try:
        return normalise_reference(reference)
    except ValueError:
        visible = "".join(c for c in reference if invisible_character(c) is None)
        return normalise_reference(visible)


def colliding(rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """``(la_code, key, [(incident id, stored reference), ...])`` for each LA's references that
    share one normal form; ``rows`` are ``(id, la_code, reference)``."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for incident_id, la_code, reference in rows:
        groups[(la_code, reference_key(reference))].append((incident_id, reference))
    return [
        (la_code, key, sorted(members))
        for (la_code, key), members in sorted(groups.items())
        if len(members) > 1
    ]


def upgrade() -> None:
    rows = [
        (str(r.id), str(r.la_code), str(r.reference))
        for r in op.get_bind().execute(sa.text("SELECT id, la_code, reference FROM incidents"))
    ]
    unnormal = sum(1 for _, _, reference in rows if reference_key(reference) != reference)
    if unnormal:
        LOG.warning(
            "%d stored incident reference(s) are not in the normal form references now take; "
            "they keep loading as stored",
            unnormal,
        )
    for la_code, key, members in colliding(rows):
        shown = "; ".join(f"incident {i} reference {ref!a}" for i, ref in members)
        LOG.warning(
            "LA %s: %d stored incidents now share the reference %s, which may be one incident "
            "notified more than once; review them (nothing was changed): %s",
            la_code,
            len(members),
            ascii(key),
            shown,
        )


def downgrade() -> None:
    """Nothing was changed, so nothing is undone."""
