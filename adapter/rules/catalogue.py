"""Every document the guidance owes, in one table (DESIGN.md §5): the rules' single source.

One :class:`Entry` per document and case: who it is owed to, what starts its clock, when it is
due, what kind of duty it is, and the guidance paragraph it rests on with a short quote. The
rules (:mod:`adapter.rules`), the deadlines (:mod:`adapter.deadlines.obligations`) and the
outbox read it; ``csins-adapter rules`` prints it and ``docs/rules.md`` is that print. A change
to the guidance is a change to one row here.

Plain Python: no framework, no I/O. Day counts that ``config/policy.yaml`` lets an LA change
(where the guidance gives no number) name their setting in :attr:`Due.setting`; the count here
is the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["statutory", "policy", "local", "expectation"]
Unit = Literal["working_days", "months", "years"]

KINDS: tuple[Kind, ...] = ("statutory", "policy", "local", "expectation")
"""``statutory``: the guidance says must; ``policy``: a default where the guidance gives no
period; ``local``: tracked and shown, never delivered to a national body; ``expectation``:
inbound, from the Panel."""

NATIONAL_BODIES = ("panel", "secretary_of_state", "ofsted", "dfe")
"""The addressees a document is delivered to (DESIGN.md §6)."""

LOCAL_ADDRESSEES = ("safeguarding_partners", "family", "public")
"""Whom a local obligation is owed to: tracked and shown, never delivered (DESIGN.md §5)."""

RECORD = "record"
""":attr:`Entry.content` of a notification: built from the incident record itself."""


class PolicyNumbers(Protocol):
    """The policy settings a due rule may read (``config.settings.Policy`` has them)."""

    @property
    def review_decision_working_days(self) -> int: ...

    @property
    def death_notification_working_days(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Due:
    """When a document is due relative to its trigger: ``count`` units after (or before) it."""

    count: int
    unit: Unit = "working_days"
    direction: Literal["after", "before"] = "after"
    setting: str | None = None
    """The ``policy.yaml`` setting an LA may change ``count`` with (policy periods only)."""

    def count_for(self, policy: PolicyNumbers | None) -> int:
        """The count in force: the LA's setting when it has one, else the default."""
        if self.setting is None or policy is None:
            return self.count
        value: int = getattr(policy, self.setting)
        return value

    def __str__(self) -> str:
        unit = self.unit.replace("_", " ")
        if self.count == 1:
            unit = unit.removesuffix("s")
        text = f"{self.count} {unit} {self.direction}"
        return text if self.setting is None else f"{text} (policy.yaml {self.setting})"


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the catalogue: a document owed in one case."""

    document: str
    addressees: tuple[str, ...]
    trigger: str
    due: Due
    kind: Kind
    section: str
    quote: str
    case: str = ""
    """Which case of the document this row is (``lcspr_decision`` by decision, ``rapid_review``
    of a notified incident or of a referral); empty when there is one."""
    content: tuple[str, ...] = ()
    """What a delivery carries: :data:`RECORD` for a notification, else the event types whose
    document it is (most specific first); empty when nothing is delivered."""
    met_by: str = "delivery"
    """``delivery`` (the addressee's acknowledgement) or the event type that satisfies it."""

    @property
    def delivered(self) -> bool:
        """Whether this row is met by delivering a document to a national body."""
        return bool(self.content) and all(a in NATIONAL_BODIES for a in self.addressees)


_AFTER_AWARE = "became_aware_on (historical harm: panel_consulted, outcome notify; a referral "
_AFTER_AWARE += "notified: referral.received_on)"


def _death_notification(document: str, quote: str) -> Entry:
    """§2: a death notified to the Secretary of State and Ofsted, by the policy period."""
    return Entry(
        document,
        ("secretary_of_state", "ofsted"),
        "became_aware_on (the death, when it came later)",
        Due(5, setting="death_notification_working_days"),
        "policy",
        "§2",
        quote,
        content=(RECORD,),
    )


def _review_decision(case: str, addressees: tuple[str, ...], section: str, quote: str) -> Entry:
    """§3, §4: the partners' decision about a review, shared by the policy period."""
    return Entry(
        "lcspr_decision",
        addressees,
        "lcspr_decided",
        Due(5, setting="review_decision_working_days"),
        "policy",
        section,
        quote,
        case=case,
        content=("lcspr_decided",),
    )


def _before_publication(document: str, trigger: str, quote: str) -> Entry:
    """§8: what is published, sent to the Panel, the Secretary of State and Ofsted 7 working
    days before the publication date."""
    return Entry(
        document,
        ("panel", "secretary_of_state", "ofsted"),
        trigger,
        Due(7, direction="before"),
        "statutory",
        "§8",
        quote,
        content=("publication_scheduled",),
    )


CATALOGUE: tuple[Entry, ...] = (
    Entry(
        "incident_notification",
        ("panel",),
        _AFTER_AWARE,
        Due(5),
        "statutory",
        "§2",
        "Notifications are to be submitted within five working days of safeguarding partners "
        "becoming aware of the incident.",
        content=(RECORD,),
    ),
    _death_notification(
        "looked_after_child_death_notification",
        "The local authority must also notify the Secretary of State for Education, and Ofsted "
        "of the death of a looked after child, regardless of whether or not abuse or neglect "
        "occurred.",
    ),
    _death_notification(
        "care_leaver_death_notification",
        "The local authority should also notify the Secretary of State for Education and "
        "Ofsted of the death of a care leaver up to and including the age of 24.",
    ),
    Entry(
        "rapid_review",
        ("panel",),
        _AFTER_AWARE,
        Due(15),
        "statutory",
        "§3",
        "A rapid review into all serious child safeguarding cases has to be completed within "
        "15 working days of safeguarding partners becoming aware of the incident. As soon as "
        "the rapid review is complete, the safeguarding partners should send a copy to the "
        "Child Safeguarding Practice Review Panel.",
        case="notified",
        content=("rapid_review_completed",),
    ),
    Entry(
        "rapid_review",
        ("safeguarding_partners",),
        "referral.received_on (an agency's referral not notified)",
        Due(15),
        "local",
        "§3",
        "The NEL Safeguarding Review Group will arrange for a 'Rapid Review' to be undertaken "
        "and completed for: ... All cases raised for consideration of a review by partner "
        "organisations.",
        case="referral",
        met_by="rapid_review_completed",
    ),
    Entry(
        "referral_decision",
        ("safeguarding_partners",),
        "referral.received_on",
        Due(5),
        "local",
        "§3",
        "Other agencies working with children should inform the safeguarding partners of any "
        "incident which they think should be considered for a child safeguarding practice "
        "review.",
        met_by="referral_decided",
    ),
    Entry(
        "panel_response",
        ("panel",),
        "rapid review delivered (else completed)",
        Due(15),
        "expectation",
        "§3",
        "The Panel will aim to respond promptly with a decision on the majority of cases "
        "within 15 working days of a rapid review being received.",
        met_by="panel_response_received",
    ),
    _review_decision(
        "local_review",
        ("panel", "ofsted", "dfe"),
        "§3, §4",
        "As soon as they have determined that a local review will be carried out, the "
        "safeguarding partners should inform the National Panel, Ofsted and DfE, including "
        "the name of any reviewer they have commissioned.",
    ),
    _review_decision(
        "no_review",
        ("panel",),
        "§3",
        "They should also share with the Panel their decision about whether a local child "
        "safeguarding practice review is appropriate.",
    ),
    _review_decision(
        "national_review_recommended",
        ("panel",),
        "§3",
        "... or whether they think the case may raise issues which are complex, or of "
        "national importance such that a national review may be appropriate.",
    ),
    Entry(
        "decision_rationale_to_family",
        ("family",),
        "lcspr_decided (the latest decision)",
        Due(5),
        "local",
        "§4",
        "Decisions on whether to undertake reviews should be made transparently and the "
        "rationale communicated appropriately, including to families.",
        met_by="family_informed",
    ),
    Entry(
        "further_information",
        ("panel",),
        "panel_information_requested (its due date when the Panel gave one)",
        Due(5),
        "statutory",
        "§5",
        "The safeguarding partners must share further information with the Panel as requested.",
        content=("further_information_sent",),
        met_by="further_information_sent (delivered to the Panel)",
    ),
    _before_publication(
        "final_report",
        "publication_scheduled (mode full_report): the publication date",
        "Safeguarding partners must send a copy of the full report to the Panel and to the "
        "Secretary of State no later than 7 working days before the date of publication. "
        "They should also provide the report ... to Ofsted within the same timescale.",
    ),
    _before_publication(
        "improvements_information",
        "publication_scheduled (mode improvements_only): the publication date",
        "Where the safeguarding partners decide only to publish information relating to the "
        "improvements ..., they must also provide a copy of that information to the Panel "
        "and the Secretary of State within the same timescale.",
    ),
    Entry(
        "publication",
        ("public",),
        "lcspr_decided (decision local_review)",
        Due(6, unit="months"),
        "statutory",
        "§8",
        "The report should be completed and published as soon as possible and no later than "
        "6 months from the date of the decision to initiate a review.",
        met_by="published",
    ),
    Entry(
        "publication_delay_notice",
        ("panel", "secretary_of_state"),
        "lcspr_decided (local_review), once publication falls after the 6-month limit",
        Due(6, unit="months"),
        "statutory",
        "§8",
        "Where other proceedings may have an impact on or delay publication ... the "
        "safeguarding partners should inform the Panel and the Secretary of State of the "
        "reasons for the delay.",
        content=("publication_delayed",),
    ),
    Entry(
        "publication_justification",
        ("panel", "secretary_of_state"),
        "publication_decided (publish improvements_only or none)",
        Due(5),
        "statutory",
        "§8",
        "Safeguarding partners should also set out for the Panel and the Secretary of State "
        "the justification for any decision not to publish either the full report or "
        "information relating to improvements.",
        content=("publication_decided",),
    ),
    Entry(
        "publication_availability",
        ("public",),
        "published: due the day it may come down; a publication_withdrawn before is a breach",
        Due(1, unit="years"),
        "statutory",
        "§8",
        "Published reports or information must be publicly available for at least one year.",
        met_by="the day passing without publication_withdrawn",
    ),
)
"""DESIGN.md §5, one row per document and case, in the order the process runs."""

DOCUMENTS: tuple[str, ...] = tuple(dict.fromkeys(entry.document for entry in CATALOGUE))
"""Every document the catalogue owes, in its order."""

ADDRESSEES: tuple[str, ...] = (*NATIONAL_BODIES, *LOCAL_ADDRESSEES)
"""Everyone an obligation may be owed to, in the order lists show them."""

RECORD_DOCUMENTS = frozenset(entry.document for entry in CATALOGUE if RECORD in entry.content)
"""Documents built from the incident record itself: the notifications."""


_ROWS: dict[tuple[str, str], Entry] = {}
for _row in CATALOGUE:
    _ROWS.setdefault((_row.document, _row.case), _row)
    _ROWS.setdefault((_row.document, ""), _row)  # a document's first row answers without case

_CONTENT: dict[str, tuple[str, ...]] = {}
for _row in CATALOGUE:
    if _row.content and RECORD not in _row.content:
        _CONTENT.setdefault(_row.document, _row.content)


def entry(document: str, case: str = "") -> Entry:
    """The row for ``document`` (in ``case``, when it has several; without one, its first
    row); KeyError when there is none."""
    try:
        return _ROWS[(document, case)]
    except KeyError:
        raise KeyError(
            f"no catalogue row for {document!r}" + (f" ({case})" if case else "")
        ) from None


def content_events(document: str) -> tuple[str, ...]:
    """The event types whose document a delivery of ``document`` carries (none: not one)."""
    return _CONTENT.get(document, ())


def addressees_of(document: str, case: str = "") -> tuple[str, ...]:
    """Whom ``document`` is owed to (in ``case``)."""
    return entry(document, case).addressees
