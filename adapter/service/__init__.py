"""Casework: the service's use cases, between the HTTP edge (or the worker) and the store.

    casework.py         submit (notify, refer, resubmit): validate, store, plan, queue deliveries
    amending.py         amend: a new version, amendments to whoever was notified, re-plan
    event_recording.py  record a lifecycle event: validate, store, re-plan, queue deliveries
    case_changes.py     what each change shares: CaseChange (who, which transaction, when),
                        queueing what the new plan owes, the audit line
    roles.py            which key role may do what (NotAllowed)
    planning.py         re-plan one incident from its stored record and events; obligations'
                        status
    outbox.py           which deliveries an incident's obligations call for, and their exact
                        payloads

Each function works inside the caller's transaction (``Database.session_scope()``), so an
incident change, its obligations and the outbox rows it causes commit together (DESIGN.md §2).
No Flask here: the API and the jobs call the same functions.
"""
