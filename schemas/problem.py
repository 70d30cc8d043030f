"""RFC 9457 problem details: the one error envelope of the HTTP API (documented in OpenAPI)."""

from __future__ import annotations

from marshmallow import Schema, fields


class FieldErrorSchema(Schema):
    field = fields.String(metadata={"description": "Dotted path, e.g. children.0.sex"})
    message = fields.String()


class ProblemSchema(Schema):
    """``application/problem+json``: type, title, status, detail, instance, plus field errors."""

    type = fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String(metadata={"description": "The request path"})
    errors = fields.List(
        fields.Nested(FieldErrorSchema), metadata={"description": "Field-level validation errors"}
    )
