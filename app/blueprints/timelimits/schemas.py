"""Request and response bodies for the time-limit policy and the deadline preview."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.catalogue.models import Severity
from app.blueprints.timelimits.policy import (MAX_MINUTES, MAX_OFFSET_MINUTES, MAX_RESOLVE_HOURS,
                                              MAX_RESOLVE_WORKING_DAYS, AreaType, Recipient)
from app.blueprints.units.models import DutyClass
from app.common.fields import Id

_MINUTES = validate.Range(1, MAX_MINUTES)
_DUTY_CLASS = validate.OneOf([d.value for d in DutyClass])
_SEVERITY = validate.OneOf([s.value for s in Severity])
_AREA = validate.OneOf([a.value for a in AreaType])
_RECIPIENT = validate.OneOf([r.value for r in Recipient])


def _minutes(**kwargs) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, validate=_MINUTES, **kwargs)


# ---------------------------------------------------------------- out

class ArriveMinutesOut(ma.Schema):
    urban = ma.fields.Integer()
    suburban = ma.fields.Integer()
    rural = ma.fields.Integer()


class LimitsOut(ma.Schema):
    ack_minutes = ma.fields.Integer()
    arrive_minutes = ma.fields.Nested(ArriveMinutesOut)
    resolve_hours = ma.fields.Integer(allow_none=True)
    resolve_working_days = ma.fields.Integer(allow_none=True)


class TimeLimitDefaultOut(LimitsOut):
    id = ma.fields.Integer()
    duty_class = ma.fields.String()
    severity = ma.fields.String()
    updated_at = ma.fields.AwareDateTime()


class EscalationStepOut(ma.Schema):
    id = ma.fields.Integer()
    clock = ma.fields.String(metadata={"description": "acknowledge, arrive or resolve"})
    step = ma.fields.String(metadata={"description": "warning, yellow (催办), red (督办) or leadership"})
    offset_minutes = ma.fields.Integer(metadata={"description": "Minutes after the clock's deadline; "
                                                                "negative: before it"})
    recipients = ma.fields.List(ma.fields.String())
    is_enabled = ma.fields.Boolean()
    updated_at = ma.fields.AwareDateTime()


class PolicyOut(ma.Schema):
    tenant_code = ma.fields.String()
    time_zone = ma.fields.String()
    defaults = ma.fields.List(ma.fields.Nested(TimeLimitDefaultOut))
    escalation_steps = ma.fields.List(ma.fields.Nested(EscalationStepOut))


class ScheduledStepOut(ma.Schema):
    clock = ma.fields.String()
    step = ma.fields.String()
    due_at = ma.fields.AwareDateTime()
    recipients = ma.fields.List(ma.fields.String())


class PreviewOut(ma.Schema):
    duty_class = ma.fields.String()
    severity = ma.fields.String()
    area = ma.fields.String()
    needs_site_visit = ma.fields.Boolean()
    category_id = ma.fields.Integer(allow_none=True)
    time_zone = ma.fields.String()
    issued_at = ma.fields.AwareDateTime()
    acknowledge_by = ma.fields.AwareDateTime()
    arrive_by = ma.fields.AwareDateTime(allow_none=True)
    resolve_by = ma.fields.AwareDateTime()
    calendar_fallback = ma.fields.Boolean(metadata={
        "description": "resolve_by counted days of a year whose holidays are not known yet "
                       "(Monday–Friday assumed)"})
    limits = ma.fields.Nested(LimitsOut, metadata={"description": "The limits in force, after category overrides"})
    escalations = ma.fields.List(ma.fields.Nested(ScheduledStepOut))


# ---------------------------------------------------------------- in

class ArriveMinutesIn(ma.Schema):
    """Any of the three areas; those left out keep their value."""

    urban = _minutes()
    suburban = _minutes()
    rural = _minutes()


class TimeLimitDefaultPatchIn(ma.Schema):
    """Change one cell. Giving one resolve unit switches the cell to it (the other is cleared)."""

    ack_minutes = _minutes()
    arrive_minutes = ma.fields.Nested(ArriveMinutesIn)
    resolve_hours = ma.fields.Integer(strict=True, allow_none=True,
                                      validate=validate.Range(1, MAX_RESOLVE_HOURS))
    resolve_working_days = ma.fields.Integer(strict=True, allow_none=True,
                                             validate=validate.Range(1, MAX_RESOLVE_WORKING_DAYS))

    @ma.validates_schema
    def one_resolve_unit(self, data, **_kwargs):
        if data.get("resolve_hours") is not None and data.get("resolve_working_days") is not None:
            raise ma.ValidationError("Give resolve_hours or resolve_working_days, not both.", "resolve_hours")


class EscalationStepPatchIn(ma.Schema):
    offset_minutes = ma.fields.Integer(strict=True, validate=validate.Range(-MAX_OFFSET_MINUTES,
                                                                            MAX_OFFSET_MINUTES))
    recipients = ma.fields.List(ma.fields.String(validate=_RECIPIENT), validate=validate.Length(1, len(Recipient)))
    is_enabled = ma.fields.Boolean()


class PreviewIn(ma.Schema):
    duty_class = ma.fields.String(required=True, validate=_DUTY_CLASS)
    severity = ma.fields.String(required=True, validate=_SEVERITY)
    area = ma.fields.String(required=True, validate=_AREA)
    needs_site_visit = ma.fields.Boolean(load_default=None, allow_none=True, metadata={
        "description": "Default: the category's setting, or true without a category"})
    category_id = Id(load_default=None, allow_none=True, metadata={
        "description": "Apply this category's time-limit overrides"})
    issued_at = ma.fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "Default: now"})
