"""Request and response bodies for the dispatch catalogue."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.catalogue.models import Route, Severity
from app.common.fields import Id, QueryId

_ROUTE = validate.OneOf([r.value for r in Route])
_SEVERITY = validate.OneOf([s.value for s in Severity])
_MINUTES = validate.Range(1, 60 * 24 * 30)


class ArriveMinutes(ma.Schema):
    urban = ma.fields.Integer(strict=True, validate=_MINUTES)
    suburban = ma.fields.Integer(strict=True, validate=_MINUTES)
    rural = ma.fields.Integer(strict=True, validate=_MINUTES)


class TimeLimitOverrides(ma.Schema):
    """Overrides of the tenant policy for one category; omit what the policy should decide."""

    ack_minutes = ma.fields.Integer(strict=True, validate=_MINUTES)
    arrive_minutes = ma.fields.Nested(ArriveMinutes)
    resolve_hours = ma.fields.Integer(strict=True, validate=validate.Range(1, 24 * 90))
    resolve_working_days = ma.fields.Integer(strict=True, validate=validate.Range(1, 90))

    @ma.validates_schema
    def one_resolve_unit(self, data, **_kwargs):
        if "resolve_hours" in data and "resolve_working_days" in data:
            raise ma.ValidationError("Give resolve_hours or resolve_working_days, not both.", "resolve_hours")


_KEYWORD = ma.fields.String(validate=validate.Length(1, 50))


class CategoryFields(ma.Schema):
    name = ma.fields.String(validate=validate.Length(1, 100))
    description = ma.fields.String(validate=validate.Length(max=2000))
    keywords = ma.fields.List(_KEYWORD, validate=validate.Length(max=200))
    lead_unit_id = Id(allow_none=True)
    assisting_unit_ids = ma.fields.List(Id(), validate=validate.Length(max=30))
    responsibility_ids = ma.fields.List(Id(), validate=validate.Length(max=50))
    route = ma.fields.String(validate=_ROUTE)
    severity = ma.fields.String(validate=_SEVERITY)
    needs_site_visit = ma.fields.Boolean()
    time_limits = ma.fields.Nested(TimeLimitOverrides)
    sort_order = ma.fields.Integer(strict=True, validate=validate.Range(0, 10_000))


class CategoryCreateIn(CategoryFields):
    code = ma.fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,20}$",
                                                                    error="1-20 letters, digits, . _ -"))
    name = ma.fields.String(required=True, validate=validate.Length(1, 100))
    parent_id = Id(load_default=None, allow_none=True)


class CategoryUpdateIn(CategoryFields):
    is_active = ma.fields.Boolean()


class CategoryOut(ma.Schema):
    id = ma.fields.Integer()
    parent_id = ma.fields.Integer(allow_none=True)
    level = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    description = ma.fields.String()
    keywords = ma.fields.List(ma.fields.String())
    lead_unit_id = ma.fields.Integer(allow_none=True)
    assisting_unit_ids = ma.fields.List(ma.fields.Integer())
    responsibility_ids = ma.fields.List(ma.fields.Integer())
    route = ma.fields.String()
    severity = ma.fields.String()
    needs_site_visit = ma.fields.Boolean()
    time_limits = ma.fields.Dict()
    sort_order = ma.fields.Integer()
    is_active = ma.fields.Boolean()
    updated_at = ma.fields.AwareDateTime()


class CategoryListArgs(ma.Schema):
    level = ma.fields.Integer(validate=validate.OneOf([1, 2]))
    parent_id = QueryId()
    lead_unit_id = QueryId()
    unit_id = QueryId(metadata={"description": "Lead or assisting unit"})
    route = ma.fields.String(validate=_ROUTE)
    severity = ma.fields.String(validate=_SEVERITY)
    is_active = ma.fields.Boolean()
    q = ma.fields.String(validate=validate.Length(1, 50),
                         metadata={"description": "Substring of code, name or a keyword"})
