"""Request and response bodies for intake (接警) and incident reads."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.catalogue.models import Route, Severity
from app.blueprints.incidents.models import AreaType, IncidentState, Satisfaction, Source
from app.common.dumping import FastDump
from app.common.fields import Id, QueryId

_SOURCE = validate.OneOf([s.value for s in Source])
_PHONE = validate.Regexp(r"^\+?[0-9][0-9 -]{1,30}$", error="Digits, optionally with +, spaces or dashes.")


class CallerFields(ma.Schema):
    source = ma.fields.String(required=True, validate=_SOURCE)
    received_at = ma.fields.AwareDateTime(metadata={"description": "When the call came in; default now"})
    caller_name = ma.fields.String(allow_none=True, validate=validate.Length(max=50))
    caller_phone = ma.fields.String(allow_none=True, validate=_PHONE)


class PlaceFields(ma.Schema):
    address = ma.fields.String(validate=validate.Length(max=300))
    area_type = ma.fields.String(validate=validate.OneOf([a.value for a in AreaType]))
    latitude = ma.fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(-90, 90))
    longitude = ma.fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(-180, 180))
    location_accuracy_m = ma.fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 100_000))
    category_id = Id(allow_none=True)
    severity = ma.fields.String(validate=validate.OneOf([s.value for s in Severity]))
    route = ma.fields.String(validate=validate.OneOf([r.value for r in Route]))

    @ma.validates_schema
    def coordinates_paired(self, data, **_kwargs):
        if "latitude" in data and "longitude" in data and (data["latitude"] is None) != (data["longitude"] is None):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")


class IncidentCreateIn(CallerFields, PlaceFields):
    description = ma.fields.String(required=True, validate=validate.Length(1, 4000))

    @ma.validates_schema
    def both_coordinates(self, data, **_kwargs):
        if ("latitude" in data) != ("longitude" in data):
            raise ma.ValidationError("Give latitude and longitude together.", "latitude")


class IncidentUpdateIn(PlaceFields):
    description = ma.fields.String(validate=validate.Length(1, 4000))


class IntakeArgs(ma.Schema):
    suggest = ma.fields.Boolean(load_default=False,
                                metadata={"description": "Also return routing suggestions and possible duplicates"})


class MergeCallIn(CallerFields):
    description = ma.fields.String(load_default="", validate=validate.Length(max=4000))


class CallOut(ma.Schema):
    id = ma.fields.Integer()
    received_at = ma.fields.AwareDateTime()
    source = ma.fields.String()
    caller_name = ma.fields.String(allow_none=True)
    caller_phone = ma.fields.String(allow_none=True)
    is_caller_masked = ma.fields.Boolean()
    description = ma.fields.String()
    merged_by_user_id = ma.fields.Integer(allow_none=True)
    merged_at = ma.fields.AwareDateTime()


class IncidentOut(FastDump, ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String()
    source = ma.fields.String()
    received_at = ma.fields.AwareDateTime()
    caller_name = ma.fields.String(allow_none=True)
    caller_phone = ma.fields.String(allow_none=True)
    is_caller_masked = ma.fields.Boolean()
    address = ma.fields.String()
    area_type = ma.fields.String()
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    location_accuracy_m = ma.fields.Integer(allow_none=True)
    description = ma.fields.String()
    category_id = ma.fields.Integer(allow_none=True)
    severity = ma.fields.String()
    route = ma.fields.String()
    state = ma.fields.String()
    merged_into_id = ma.fields.Integer(allow_none=True)
    merged_at = ma.fields.AwareDateTime(allow_none=True)
    version = ma.fields.Integer()
    created_by_user_id = ma.fields.Integer(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    cancelled_at = ma.fields.AwareDateTime(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    satisfaction = ma.fields.String(allow_none=True)
    callback_note = ma.fields.String(allow_none=True)
    callback_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class IncidentDetailOut(IncidentOut):
    calls = ma.fields.List(ma.fields.Nested(CallOut), metadata={"description": "Repeat calls merged in (并单)"})


class DuplicateOut(ma.Schema):
    incident = ma.fields.Nested(IncidentOut)
    score = ma.fields.Float()
    reasons = ma.fields.List(ma.fields.String(), metadata={"description": "`near`, `similar_text`"})
    distance_m = ma.fields.Integer(allow_none=True)
    similarity = ma.fields.Float()


class IntakeOut(ma.Schema):
    incident = ma.fields.Nested(IncidentOut)
    suggestions = ma.fields.Dict(metadata={"description": "Routing suggestions (?suggest=true)"})
    duplicates = ma.fields.List(ma.fields.Nested(DuplicateOut),
                                metadata={"description": "Possible duplicates (?suggest=true)"})


class IncidentListArgs(ma.Schema):
    q = ma.fields.String(validate=validate.Length(1, 50),
                         metadata={"description": "Substring of the description or address (Chinese works)"})
    state = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in IncidentState])))
    severity = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in Severity])))
    category_id = QueryId()
    source = ma.fields.String(validate=_SOURCE)
    received_since = ma.fields.AwareDateTime()
    received_until = ma.fields.AwareDateTime()
    sort = ma.fields.String(load_default="-received_at", validate=validate.Length(1, 30))


class TimelineEventOut(ma.Schema):
    id = ma.fields.Integer(allow_none=True, metadata={"description": "None for the intake, taken from the incident"})
    kind = ma.fields.String(metadata={"description": "`incident.received`, `instruction.issued`, "
                                                     "`instruction.acknowledge`, `incident.urge`, ..."})
    instruction_id = ma.fields.Integer(allow_none=True)
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(allow_none=True)
    actor_user_id = ma.fields.Integer(allow_none=True)
    actor_name = ma.fields.String(allow_none=True)
    at = ma.fields.AwareDateTime(metadata={"description": "Server time"})
    client_at = ma.fields.AwareDateTime(allow_none=True, metadata={"description": "The client's claimed time"})
    data = ma.fields.Dict()


class TimelineOut(ma.Schema):
    incident = ma.fields.Nested(IncidentOut)
    events = ma.fields.List(ma.fields.Nested(TimelineEventOut))


def _version():
    return ma.fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "The incident version you saw; or send `If-Match` with the "
                                                      "ETag. A stale one is 412 `version_mismatch`."})


class UrgeIn(ma.Schema):
    instruction_id = Id(required=True, metadata={"description": "The live instruction whose unit is urged"})
    note = ma.fields.String(required=True, validate=validate.Length(1, 2000))
    version = _version()


class CallbackIn(ma.Schema):
    satisfaction = ma.fields.String(required=True, validate=validate.OneOf(list(Satisfaction)),
                                    metadata={"description": "`dissatisfied` reopens the lead instruction (重办)"})
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    version = _version()


class CloseIn(ma.Schema):
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    version = _version()


class CancelIncidentIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(1, 2000))
    version = _version()


class MergeIn(ma.Schema):
    into_incident_id = Id(required=True, metadata={"description": "The incident that survives (open or resolved)"})
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    version = _version()
