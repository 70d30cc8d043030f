"""Casework: the service's use cases, between the HTTP edge (or the worker) and the store.

    casework.py         submit (notify, refer, resubmit): validate, store, plan, queue deliveries
    amending.py         amend: a new version, amendments to whoever was notified, re-plan
    event_recording.py  record a lifecycle event: validate, store, re-plan, queue deliveries
    case_changes.py     what each change shares: CaseChange (who, which transaction, when),
                        queueing what the new plan owes, the audit line
    roles.py            which key role may do what (NotAllowed)
    submissions.py      one write path for validated incidents, many per transaction
    replanning.py       re-plan one incident from its stored record and events; obligations' status
    deliveries_owed.py  which deliveries an incident's obligations call for, their exact payloads
    delivering.py       one try of one delivery: start it, send it, record the answer and receipt
    retries.py          retry a failed delivery by hand;  assisted.py  record an assisted submission
    import_runs.py      accept an uploaded export, then run it (convert and write) in the background
    alerts.py           the webhook and log line when a delivery fails or a deadline is at risk

Each function works inside the caller's transaction (``Database.session_scope()``), so an
incident change, its obligations and the outbox rows it causes commit together (DESIGN.md §2).
No Flask here: the API and the jobs call the same functions.
"""
