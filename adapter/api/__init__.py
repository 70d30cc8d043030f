"""The REST API under ``/api/v1``: :func:`init_app` registers its blueprints on the app that
:func:`adapter.app.create_app` builds.

spec.py       flask-smorest Api: OpenAPI 3 at /api/openapi.json, Swagger UI at /api/docs
auth.py       bearer keys and roles;  bodies.py  size limits and JSON parsing
incidents.py  deadlines.py  deadline_feed.py  deliveries.py  imports.py  receipts.py
checkpoints.py  health.py  the endpoints
(problems, resources and views are shared with the pages: :mod:`adapter.http`)
"""

from __future__ import annotations

from flask import Flask

from adapter.api import spec
from schemas.events import EventSchema
from schemas.incident import IncidentRecordSchema


def init_app(app: Flask) -> None:
    """Register the OpenAPI spec and every API blueprint on ``app``."""
    api = spec.init_app(app)
    api.spec.components.schema("IncidentRecord", schema=IncidentRecordSchema)
    api.spec.components.schema("Event", schema=EventSchema)

    from adapter.api import (
        checkpoints,
        deadline_feed,
        deadlines,
        deliveries,
        health,
        imports,
        incidents,
        receipts,
    )

    for blueprint in (
        health.blp,
        incidents.blp,
        imports.blp,
        deadlines.blp,
        deadline_feed.blp,
        deliveries.blp,
        checkpoints.blp,  # before receipts: /receipts/checkpoints is not a receipt id
        receipts.blp,
    ):
        api.register_blueprint(blueprint)
