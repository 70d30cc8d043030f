"""Casework: the service's use cases, between the HTTP edge (or the worker) and the store.

    casework.py   submit, amend, record an event: validate, store, re-plan, queue deliveries
    planning.py   re-plan one incident from its stored record and events; obligations' status
    outbox.py     which deliveries an incident's obligations call for, and their exact payloads

Each function works inside the caller's transaction (``Database.session_scope()``), so an
incident change, its obligations and the outbox rows it causes commit together (DESIGN.md §2).
No Flask here: the API and the jobs call the same functions.
"""
