"""Request and response bodies for duty rosters.

Instants come in with any offset and go out in the tenant's time zone with its offset
(`2026-03-01T08:00:00+08:00`); pattern dates and times are the tenant's wall clock.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import g, has_request_context
from marshmallow import post_load, validate

from app.blueprints.rosters.models import MAX_ROTATION, MAX_SHIFT_HOURS, OverrideKind
from app.common.fields import Id, QueryId

# Far enough for any roster, near enough that no offset arithmetic overflows.
_FIRST_YEAR, _LAST_YEAR = 2000, 2099


def _plausible_year(value: date) -> None:
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise ma.ValidationError(f"Must lie in the years {_FIRST_YEAR}-{_LAST_YEAR}.")


class TenantDateTime(ma.fields.AwareDateTime):
    """An aware instant: any offset in, the tenant's zone out (UTC outside a tenant request)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", _plausible_year)
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            tenant = g.get("tenant") if has_request_context() else None
            value = value.astimezone(ZoneInfo(tenant.time_zone) if tenant is not None else UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def _local_date(**kwargs) -> ma.fields.Date:
    return ma.fields.Date(validate=_plausible_year, **kwargs)


_HHMM = validate.Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error="A local time HH:MM, e.g. 08:00.")


# --- shared pieces ------------------------------------------------------------------------------

class RosterUser(ma.Schema):
    id = ma.fields.Integer()
    username = ma.fields.String()
    display_name = ma.fields.String()
    phone = ma.fields.String(allow_none=True)


class RosterUnit(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    short_name = ma.fields.String()
    duty_class = ma.fields.String()
    duty_phone = ma.fields.String(allow_none=True)


# --- patterns -----------------------------------------------------------------------------------

class RosterSlotOut(ma.Schema):
    position = ma.fields.Integer()
    user = ma.fields.Nested(RosterUser)
    is_eligible = ma.fields.Boolean(metadata={"description": "Still an active liaison, leader or responder "
                                                            "of the unit; if not, their shifts cover nothing"})


class RosterPatternOut(ma.Schema):
    id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    name = ma.fields.String()
    starts_on = ma.fields.Date()
    start_time = ma.fields.Time(format="%H:%M")
    shift_hours = ma.fields.Integer()
    every_hours = ma.fields.Integer(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True)
    user_ids = ma.fields.List(ma.fields.Integer())
    rotation = ma.fields.List(ma.fields.Nested(RosterSlotOut), attribute="slots")
    created_at = TenantDateTime()
    updated_at = TenantDateTime()
    deleted_at = TenantDateTime(allow_none=True, metadata={"description": "Set once deleted: the row is "
                                                                         "kept as a record and counts no more"})


class _RosterPatternFields(ma.Schema):
    @post_load
    def _parse_time(self, data, **_kwargs):
        if "start_time" in data:
            data["start_time"] = time.fromisoformat(data["start_time"])
        return data


class RosterPatternCreateIn(_RosterPatternFields):
    name = ma.fields.String(required=True, validate=validate.Length(1, 100))
    starts_on = _local_date(required=True, metadata={"description": "Local date of the first shift"})
    start_time = ma.fields.String(required=True, validate=_HHMM,
                                  metadata={"description": "Local handover time, HH:MM"})
    shift_hours = ma.fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_SHIFT_HOURS))
    every_hours = ma.fields.Integer(load_default=None, allow_none=True, strict=True,
                                    validate=validate.Range(1, MAX_SHIFT_HOURS), metadata={
                                        "description": "Hours between shift starts, at least `shift_hours`; "
                                                       "none: back to back. 12 with every 24: days only"})
    ends_on = _local_date(load_default=None, allow_none=True,
                          metadata={"description": "Last local date a shift may start on; none: no end"})
    user_ids = ma.fields.List(Id(), required=True, validate=validate.Length(1, MAX_ROTATION),
                              metadata={"description": "The rotation in order; shift k goes to k mod n"})


class RosterPatternUpdateIn(_RosterPatternFields):
    name = ma.fields.String(validate=validate.Length(1, 100))
    starts_on = _local_date()
    start_time = ma.fields.String(validate=_HHMM)
    shift_hours = ma.fields.Integer(strict=True, validate=validate.Range(1, MAX_SHIFT_HOURS))
    every_hours = ma.fields.Integer(allow_none=True, strict=True, validate=validate.Range(1, MAX_SHIFT_HOURS))
    ends_on = _local_date(allow_none=True)
    user_ids = ma.fields.List(Id(), validate=validate.Length(1, MAX_ROTATION))


# --- overrides ----------------------------------------------------------------------------------

_KIND = validate.OneOf([kind.value for kind in OverrideKind])


class RosterOverrideOut(ma.Schema):
    id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    kind = ma.fields.String()
    user = ma.fields.Nested(RosterUser)
    replaced_user = ma.fields.Nested(RosterUser, allow_none=True)
    starts_at = TenantDateTime()
    ends_at = TenantDateTime()
    note = ma.fields.String()
    created_at = TenantDateTime()
    updated_at = TenantDateTime()
    deleted_at = TenantDateTime(allow_none=True, metadata={"description": "Set once withdrawn: the row is "
                                                                         "kept as a record and counts no more"})


class RosterOverrideCreateIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=_KIND, metadata={
        "description": "`extra`: `user_id` is on duty too; `replace`: `user_id` takes over "
                       "`replaced_user_id`'s duty; `cancel`: `user_id` is off duty"})
    user_id = Id(required=True)
    replaced_user_id = Id(load_default=None, allow_none=True)
    starts_at = TenantDateTime(required=True)
    ends_at = TenantDateTime(required=True)
    note = ma.fields.String(load_default="", validate=validate.Length(max=500))


class RosterOverrideUpdateIn(ma.Schema):
    user_id = Id()
    replaced_user_id = Id(allow_none=True)
    starts_at = TenantDateTime()
    ends_at = TenantDateTime()
    note = ma.fields.String(validate=validate.Length(max=500))


class RosterOverrideListArgs(ma.Schema):
    window_from = TenantDateTime(data_key="from", metadata={"description": "Overrides ending after this"})
    window_to = TenantDateTime(data_key="to", metadata={"description": "Overrides starting before this"})
    kind = ma.fields.String(validate=_KIND)
    user_id = QueryId(metadata={"description": "The person put on or taken off duty, or replaced"})


# --- resolved duty ------------------------------------------------------------------------------

class RosterShiftOut(ma.Schema):
    user = ma.fields.Nested(RosterUser)
    starts_at = TenantDateTime()
    ends_at = TenantDateTime()
    pattern_ids = ma.fields.List(ma.fields.Integer())
    override_ids = ma.fields.List(ma.fields.Integer())
    is_eligible = ma.fields.Boolean(metadata={"description": "False: the person has left the unit or was "
                                                            "deactivated; the shift covers nothing"})


class RosterWindowArgs(ma.Schema):
    window_from = TenantDateTime(data_key="from", metadata={"description": "Default: now"})
    window_to = TenantDateTime(data_key="to", metadata={"description": "Default: `from` + 7 days; at most 42"})


class RosterAtArgs(ma.Schema):
    at = TenantDateTime(metadata={"description": "The instant to check; default now"})


class RosterWindowOut(ma.Schema):
    unit = ma.fields.Nested(RosterUnit)
    time_zone = ma.fields.String()
    window_from = TenantDateTime(data_key="from")
    window_to = TenantDateTime(data_key="to")
    shifts = ma.fields.List(ma.fields.Nested(RosterShiftOut))


class RosterOnDutyOut(ma.Schema):
    unit = ma.fields.Nested(RosterUnit)
    time_zone = ma.fields.String()
    at = TenantDateTime()
    on_duty = ma.fields.List(ma.fields.Nested(RosterShiftOut))


class RosterGapOut(ma.Schema):
    unit = ma.fields.Nested(RosterUnit)
    starts_at = TenantDateTime()
    ends_at = TenantDateTime()
    is_now = ma.fields.Boolean(metadata={"description": "Nobody is on duty at the instant checked"})
    is_open_ended = ma.fields.Boolean(metadata={"description": "Still uncovered at the end of the 24 hours"})


class RosterGapsOut(ma.Schema):
    tenant_code = ma.fields.String()
    time_zone = ma.fields.String()
    checked_from = TenantDateTime()
    checked_until = TenantDateTime()
    gaps = ma.fields.List(ma.fields.Nested(RosterGapOut))
