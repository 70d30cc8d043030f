"""What an incident record obliges the local authority to notify, and to whom (DESIGN.md §4).

:func:`classify` reads a *loaded* incident record (``IncidentRecordSchema().load``: dates are
``datetime.date``) and the Panel consultation, if any, and answers which rows of DESIGN.md §4
apply. Each child is evaluated on its own and the rows are combined: one notification per incident
however many children (§2), an abused looked-after child who died gets both the Panel and the
Secretary of State/Ofsted notifications.

The ``classification`` contract (part of the ``plan`` JSON, keep it stable): the names of the rows
that matched, in this order, never empty:

- ``serious_incident``: abuse or neglect known or suspected, and a child died or was seriously
  harmed (§1, §2); also a young adult's historical harm once the Panel said ``notify``; also an
  incident notified as one whose rapid review is recorded, when an amendment says otherwise
  (§2: facts that emerge later amend the notification, they do not withdraw it); listed too
  when another LA notifies it (``blocked_reason`` ``another_la_notifies``), owing nothing here;
- ``looked_after_child_death`` (§2, whatever the abuse finding);
- ``care_leaver_death``: aged up to and including 24 (§2);
- ``young_adult_historical_harm``: 18 or over on ``became_aware_on``, harm in childhood not known
  at the time; the Panel is consulted first (§2). Listed while blocked, after ``notify`` (next to
  ``serious_incident``) and after ``do_not_notify`` (then nothing else may be owed);
- ``not_notifiable``, alone, when none of the above matched: a local learning review may be
  recorded, never sent to the Panel (§2).

``notifiable`` means something is owed by this local authority now; ``blocked_reason`` says why
the serious-incident row is not: ``"panel_consultation_required"`` while a young adult's case
waits for the Panel's advice, ``"another_la_notifies"`` when the incident happened in another
English LA's area (§2 "the local authority where the incident occurred"). It may stand beside an
owed looked-after or care leaver death notification, which the responsible authority owes
wherever the death happened.

Ages decide different things in different rows (DESIGN.md §4), each row reading its own date:

- serious incident: harm in childhood, the person a child on ``incident.date``; then aware while
  still a child, or died under 18, is the ordinary row; aware at 18 or over (alive, or died at
  18 or over) with ``historical_harm`` is a young adult's case (consult the Panel, §2); without
  ``historical_harm`` the ordinary row, with a warning that it may be historical harm;
- looked-after child and care leaver deaths: the age at ``date_of_death``.

An age is read from ``date_of_birth``, else ``age_years`` (the age on ``incident.date``, so an
age on another date is a range of two years at most). A child is under 18 or unborn; an unknown
age counts as a child, with a warning wherever the age decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from adapter.rules.cases import (
    ANOTHER_LA_NOTIFIES,
    BECAME_AWARE,
    CARE_LEAVER_DEATH,
    DATE_OF_DEATH,
    LOOKED_AFTER_CHILD_DEATH,
    NOT_NOTIFIABLE,
    PANEL_CONSULTATION_REQUIRED,
    PANEL_CONSULTED,
    SERIOUS_INCIDENT,
    YOUNG_ADULT_HISTORICAL_HARM,
    Classification,
    Notification,
    PanelConsultation,
)
from adapter.rules.catalogue import addressees_of
from adapter.rules.children import Findings, evaluate_child, presumed_outcome
from adapter.rules.incident_warnings import incident_warnings
from adapter.rules.jurisdiction import LOCATION_UNKNOWN, another_la_notifies, owed_here_by


def classify(
    record: Mapping[str, Any],
    consultation: PanelConsultation | None = None,
    *,
    rapid_review_completed_on: dt.date | None = None,
) -> Classification:
    """The rows of DESIGN.md §4 that ``record`` meets, combined over its children (§2).

    ``rapid_review_completed_on`` is the date of a rapid review recorded before this version of
    the record: the incident was then notified as a serious incident and its review process has
    begun, so it stays a serious incident whatever an amendment now says (§2).
    """
    incident = record["incident"]
    children: Sequence[Mapping[str, Any]] = record["children"]
    warnings: list[str] = []
    findings = Findings()
    presumed = presumed_outcome(incident["nature"], children)
    for index, child in enumerate(children):
        warnings += evaluate_child(index, child, incident, presumed, consultation, findings)

    owed_here, where = owed_here_by(incident.get("location"))
    meets = findings.serious or findings.young_adult_consulted_notify
    kept = rapid_review_completed_on is not None and not meets
    elsewhere = not owed_here and not kept and (meets or findings.young_adult)
    serious = (meets and not elsewhere) or kept
    documents = _documents_owed(serious, findings, consultation, incident["became_aware_on"])
    if kept:
        warnings.append(_kept_notified(rapid_review_completed_on))
    if elsewhere:
        warnings.append(another_la_notifies(bool(documents)))
    elif where is None and (serious or findings.young_adult):
        warnings.append(LOCATION_UNKNOWN)
    warnings += incident_warnings(incident, children, bool(documents), findings, consultation)
    return Classification(
        notifiable=bool(documents),
        blocked_reason=_blocked_reason(elsewhere, serious, findings, consultation),
        classification=_matched(serious or (elsewhere and meets), findings),
        rapid_review_required=serious,
        documents=documents,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _documents_owed(
    serious: bool, findings: Findings, consultation: PanelConsultation | None, aware: dt.date
) -> tuple[Notification, ...]:
    """The notifications owed here: the Panel's and the rapid review for a serious incident,
    then the death notifications (§2, §3)."""
    documents: list[Notification] = []
    if serious:
        trigger, trigger_on = (
            (PANEL_CONSULTED, consultation.on)
            if not findings.serious
            and consultation is not None
            and consultation.outcome == "notify"
            else (BECAME_AWARE, aware)
        )
        # §2: the Panel within five working days; §3: the rapid review within 15 working days.
        documents.append(_owed("incident_notification", trigger, trigger_on))
        documents.append(_owed("rapid_review", trigger, trigger_on, case="notified"))
    for document, deaths in (
        # §2: "regardless of whether or not abuse or neglect occurred"; owed by the LA that
        # looked after or supported the person, wherever the death happened (DESIGN.md §4).
        ("looked_after_child_death_notification", findings.looked_after_deaths),
        ("care_leaver_death_notification", findings.care_leaver_deaths),
    ):
        if deaths:
            documents.append(_death_notification(document, deaths, aware))
    return tuple(documents)


def _blocked_reason(
    elsewhere: bool, serious: bool, findings: Findings, consultation: PanelConsultation | None
) -> str | None:
    """Why the serious-incident row is not owed here, if it is not (DESIGN.md §4)."""
    if elsewhere:
        return ANOTHER_LA_NOTIFIES
    if findings.young_adult and consultation is None and not serious:
        return PANEL_CONSULTATION_REQUIRED
    return None


def _matched(serious_row: bool, findings: Findings) -> tuple[str, ...]:
    """The names of the rows met, in the contract's order; ``not_notifiable`` alone if none."""
    matched = [
        name
        for name, hit in (
            (SERIOUS_INCIDENT, serious_row),
            (LOOKED_AFTER_CHILD_DEATH, bool(findings.looked_after_deaths)),
            (CARE_LEAVER_DEATH, bool(findings.care_leaver_deaths)),
            (YOUNG_ADULT_HISTORICAL_HARM, findings.young_adult),
        )
        if hit
    ]
    return tuple(matched) or (NOT_NOTIFIABLE,)


def _kept_notified(rapid_review_completed_on: dt.date | None) -> str:
    """Why an amended record that no longer meets §1 still owes the review process (§2, §3)."""
    return (
        "the record as amended would not now be notified to the Panel as a serious incident "
        "(§1: abuse or neglect known or suspected, and a child died or was seriously harmed), "
        f"but it was, and its rapid review was completed on {rapid_review_completed_on}: it "
        "stays a serious incident and follows the review process (§2: only incidents notified "
        "as serious incidents are subject to it); the partners decide whether a review follows "
        "(§4)"
    )


def _death_notification(
    document: str, deaths: Sequence[dt.date | None], aware: dt.date
) -> Notification:
    """§2: the death is what is notified, so its clock starts when the local authority is aware
    of the incident and the child has died: at the death when it came later (a harmed child who
    died afterwards). A death whose date is not known counts from ``became_aware_on``."""
    known = [died for died in deaths if died is not None]
    first_death = min(known) if len(known) == len(deaths) else None
    if first_death is not None and first_death > aware:
        return _owed(document, DATE_OF_DEATH, first_death)
    return _owed(document, BECAME_AWARE, aware)


def _owed(document: str, trigger: str, trigger_on: dt.date, case: str = "") -> Notification:
    """A notification owed to the addressees the catalogue names for it (DESIGN.md §5)."""
    return Notification(document, addressees_of(document, case), trigger, trigger_on, case)
