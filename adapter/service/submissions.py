"""One write path for incidents already validated: many per transaction (DESIGN.md §2, §7).

The API validates one record with the schema; an import's converter has checked each record
it yields against the same schema and rules (:mod:`adapter.importers.layout`), so neither is
serialised to JSON and validated again on the way in. :func:`submit_batch` writes a batch of
them in the caller's transaction, each in a savepoint: an incident that conflicts, belongs to
another LA or is refused for any other reason rolls back alone and becomes that incident's
outcome, and the others still go in. Their deliveries are published when the transaction
commits (:mod:`adapter.store.publishing`), so nothing here touches a queue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from adapter.apikeys import Principal
from adapter.crypto import Keyring
from adapter.errors import CalendarRangeError, CsinsError, InvalidRecord
from adapter.service import casework
from adapter.service.case_changes import CaseChange
from adapter.service.planning import CurrentRecord
from adapter.service.roles import require_submitter
from adapter.store import new_incidents
from adapter.store.audit import defer_flush
from adapter.store.publishing import pending
from config.settings import Policy


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one record of a batch: ``created``, ``identical``, ``conflict``,
    ``invalid`` or ``refused`` (with why, for the last three)."""

    outcome: str
    incident_id: str | None = None
    error: CsinsError | None = None


def json_form(value: Any) -> Any:
    """A loaded record in its JSON (dump) form: dates as ISO strings, the rest as it is.

    What ``IncidentRecordSchema.dump`` gives of a record loaded by it, and what the store
    hashes: a record imported and the same record posted to the API are identical."""
    if isinstance(value, Mapping):
        return {key: json_form(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_form(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def converted_record(loaded: Mapping[str, Any]) -> CurrentRecord:
    """A record an importer converted (loaded shape, checked already), ready to submit."""
    return CurrentRecord(json_form(loaded), loaded)


class BatchRefused(CsinsError):
    """One record of a batch written without savepoints could not be submitted: roll the
    transaction back and write the batch again with ``isolated=True``."""


def submit_batch(
    session: Session,
    keyring: Keyring,
    policy: Policy,
    principal: Principal,
    records: Sequence[CurrentRecord],
    *,
    now: dt.datetime,
    isolated: bool = False,
) -> list[Outcome]:
    """Submit each of ``records`` in the session's transaction.

    By default the whole batch is written at once: each incident's row is inserted as it
    comes (that is how a taken reference is recognised), and everything else (versions,
    children, obligations, deliveries, audit lines) in one flush at the end, a few multi-row
    statements instead of several round trips per incident. Should one record fail, that
    raises :class:`BatchRefused`, and the caller writes the batch again, ``isolated``: each
    record in a savepoint, its failure its outcome alone.
    """
    require_submitter(principal)
    if not isolated:
        return _all_at_once(CaseChange(session, keyring, policy, principal, now), records)
    outcomes: list[Outcome] = []
    queued = pending(session)
    for record in records:
        published = len(queued)
        savepoint = session.begin_nested()
        try:
            done = casework.submit_valid(session, keyring, policy, principal, record, now=now)
            savepoint.commit()
        except CsinsError as error:
            savepoint.rollback()
            del queued[published:]  # what the rolled-back incident queued is not committed
            outcomes.append(Outcome(_failed(error), error=error))
            continue
        outcomes.append(Outcome(done.outcome, done.incident.id))
    return outcomes


def _all_at_once(change: CaseChange, records: Sequence[CurrentRecord]) -> list[Outcome]:
    """The batch in one go (see :func:`submit_batch`); :class:`BatchRefused` if any fails."""
    session, principal, policy = change.session, change.principal, change.policy
    outcomes: list[Outcome] = []
    defer_flush(session, True)
    try:
        with session.no_autoflush:
            plans = [casework.submission_plan(principal, record, policy) for record in records]
            inserted = new_incidents.insert_new_incidents(
                session,
                change.keyring,
                la_scope=principal.la_scope,
                records=[
                    (record.json, casework.submission_status(plan))
                    for record, plan in zip(records, plans, strict=True)
                ],
                key_id=principal.key_id,
            )
            for record, plan, created in zip(records, plans, inserted, strict=True):
                done = casework.submit_valid(
                    session,
                    change.keyring,
                    policy,
                    principal,
                    record,
                    now=change.now,
                    inserted=None if created is None else (created, plan),
                )
                outcomes.append(Outcome(done.outcome, done.incident.id))
    except Exception as error:  # any: the isolated writing says which record and why
        raise BatchRefused(f"a record of the batch failed: {type(error).__name__}") from error
    finally:
        defer_flush(session, False)
    session.flush()
    return outcomes


def _failed(error: CsinsError) -> str:
    if isinstance(error, casework.RecordConflict):
        return "conflict"
    if isinstance(error, InvalidRecord | CalendarRangeError):
        return "invalid"
    return "refused"  # OutOfScope, NotAllowed, ...: this incident only
