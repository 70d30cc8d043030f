"""Marshmallow schemas: the incident record, lifecycle events, and (later) API bodies and receipts.

Code lists live in :mod:`schemas.codes`; cross-field rules in :mod:`schemas.consistency`.
"""
