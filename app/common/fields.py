"""Field shapes shared by schemas, bounded to what PostgreSQL stores."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate
from werkzeug.routing import IntegerConverter

BIGINT_MAX = 2**63 - 1


def Id(**kwargs) -> ma.fields.Integer:
    """An id in a JSON body: a real JSON integer (1.5 is refused, not truncated), within bigint."""
    return ma.fields.Integer(strict=True, validate=validate.Range(1, BIGINT_MAX), **kwargs)


def QueryId(**kwargs) -> ma.fields.Integer:
    """An id in a query string (text by nature), within bigint."""
    return ma.fields.Integer(validate=validate.Range(1, BIGINT_MAX), **kwargs)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` in URLs: an id beyond bigint is a plain 404, never a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)
