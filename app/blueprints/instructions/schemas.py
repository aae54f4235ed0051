"""Request and response bodies for instructions. Instants: any offset in, the tenant's zone out."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.instructions.models import InstructionRole
from app.blueprints.instructions.machine import State
from app.blueprints.instructions.results import RESULT_CODES
from app.blueprints.rosters.schemas import TenantDateTime
from app.common.dumping import FastDump
from app.common.fields import Id

_TEXT = validate.Length(max=4000)
_MEDIA = ma.fields.List(ma.fields.UUID(), load_default=list, validate=validate.Length(max=20),
                        metadata={"description": "Ids of photos uploaded before (media are uploaded separately)"})


def _version():
    return ma.fields.Integer(strict=True, validate=validate.Range(1, 2**31 - 1),
                             metadata={"description": "The version you saw; or send `If-Match` with the ETag. "
                                                      "A stale one is 412 `version_mismatch`."})


class PositionIn(ma.Schema):
    latitude = ma.fields.Decimal(required=True, places=6, as_string=False, validate=validate.Range(-90, 90))
    longitude = ma.fields.Decimal(required=True, places=6, as_string=False, validate=validate.Range(-180, 180))
    accuracy_m = ma.fields.Integer(strict=True, validate=validate.Range(0, 100_000), allow_none=True)


class InstructionItemIn(ma.Schema):
    unit_id = Id(required=True)
    role = ma.fields.String(load_default=InstructionRole.LEAD.value, validate=validate.OneOf(list(InstructionRole)))
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))
    reissue_of_id = Id(metadata={"description": "A returned instruction of this incident that this one "
                                                "re-assigns to another unit"})


class IssueIn(ma.Schema):
    instructions = ma.fields.List(ma.fields.Nested(InstructionItemIn), required=True,
                                  validate=validate.Length(1, 30))
    needs_site_visit = ma.fields.Boolean(allow_none=True, load_default=None,
                                         metadata={"description": "Overrides the category's setting"})


class _UnitActionIn(ma.Schema):
    version = _version()
    client_time = TenantDateTime(allow_none=True, metadata={"description": "When the phone says it happened"})


class AcknowledgeIn(_UnitActionIn):
    responder_ids = ma.fields.List(Id(), load_default=list, validate=validate.Length(max=50))


class ReturnIn(_UnitActionIn):
    reason = ma.fields.String(required=True, validate=validate.Length(1, 2000))


class SetOutIn(_UnitActionIn):
    pass


class ArriveIn(_UnitActionIn):
    text = ma.fields.String(load_default="", validate=_TEXT)
    position = ma.fields.Nested(PositionIn, allow_none=True, load_default=None)
    media_ids = _MEDIA


class ProgressIn(ArriveIn):
    text = ma.fields.String(required=True, validate=validate.Length(1, 4000))


class ResolveIn(ArriveIn):
    result_code = ma.fields.String(required=True, validate=validate.OneOf(list(RESULT_CODES)),
                                   metadata={"description": "docs/result-codes.md"})


class DeskActionIn(ma.Schema):
    version = _version()
    reason = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class ReviewIn(ma.Schema):
    version = _version()
    outcome = ma.fields.String(required=True, validate=validate.OneOf(["accepted", "sent_back"]),
                               metadata={"description": "`accepted` (审核通过) or `sent_back` for redo (重办)"})
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000),
                            metadata={"description": "Required when sending back"})


class ExtensionRequestIn(_UnitActionIn):
    reason = ma.fields.String(required=True, validate=validate.Length(1, 2000))
    resolve_by = TenantDateTime(required=True, metadata={"description": "The deadline asked for: later than the "
                                                                        "current one, at most 30 days later"})


class ExtensionApproveIn(ma.Schema):
    version = _version()
    resolve_by = TenantDateTime(allow_none=True, load_default=None,
                                metadata={"description": "The deadline granted; the requested one if omitted"})
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class ExtensionRefuseIn(ma.Schema):
    version = _version()
    note = ma.fields.String(required=True, validate=validate.Length(1, 2000))


class ExtensionOut(ma.Schema):
    id = ma.fields.Integer()
    instruction_id = ma.fields.Integer()
    state = ma.fields.String(metadata={"description": "`pending`, `approved`, `refused`, `lapsed`"})
    reason = ma.fields.String()
    previous_resolve_by = TenantDateTime()
    requested_resolve_by = TenantDateTime()
    granted_resolve_by = TenantDateTime(allow_none=True)
    requested_by_user_id = ma.fields.Integer(allow_none=True)
    requested_at = TenantDateTime()
    client_at = TenantDateTime(allow_none=True)
    decided_by_user_id = ma.fields.Integer(allow_none=True)
    decided_at = TenantDateTime(allow_none=True)
    decision_note = ma.fields.String(allow_none=True)


class ReissueIn(ma.Schema):
    version = _version()
    note = ma.fields.String(load_default="", validate=validate.Length(max=2000))


class InstructionOut(FastDump, ma.Schema):
    id = ma.fields.Integer()
    incident_id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    role = ma.fields.String()
    note = ma.fields.String()
    state = ma.fields.String()
    version = ma.fields.Integer()
    needs_site_visit = ma.fields.Boolean()
    responder_ids = ma.fields.List(ma.fields.Integer(), attribute="responder_user_ids")
    issued_at = TenantDateTime()
    issued_by_user_id = ma.fields.Integer(allow_none=True)
    acknowledged_at = TenantDateTime(allow_none=True)
    acknowledged_by_user_id = ma.fields.Integer(allow_none=True)
    en_route_at = TenantDateTime(allow_none=True)
    arrived_at = TenantDateTime(allow_none=True)
    resolved_at = TenantDateTime(allow_none=True)
    returned_at = TenantDateTime(allow_none=True)
    return_reason = ma.fields.String(allow_none=True)
    cancelled_at = TenantDateTime(allow_none=True)
    reopened_at = TenantDateTime(allow_none=True)
    redo_count = ma.fields.Integer()
    reviewed_at = TenantDateTime(allow_none=True)
    reviewed_by_user_id = ma.fields.Integer(allow_none=True)
    acknowledge_by = TenantDateTime()
    arrive_by = TenantDateTime(allow_none=True)
    resolve_by = TenantDateTime()
    result_code = ma.fields.String(allow_none=True)
    result_text = ma.fields.String(allow_none=True)
    reissue_of_id = ma.fields.Integer(allow_none=True)
    is_overruled_return = ma.fields.Boolean()
    supervision_level = ma.fields.String(metadata={"description": "`none`, `yellow` (催办) or `red` (督办): raised "
                                                                  "by escalation steps that fired"})


class FeedbackOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    text = ma.fields.String()
    author_user_id = ma.fields.Integer(allow_none=True)
    at = TenantDateTime()
    client_at = TenantDateTime(allow_none=True)
    latitude = ma.fields.Float(allow_none=True)
    longitude = ma.fields.Float(allow_none=True)
    accuracy_m = ma.fields.Integer(allow_none=True)
    media_ids = ma.fields.List(ma.fields.UUID())


class InstructionListArgs(ma.Schema):
    state = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in State])),
                           metadata={"description": "Only these states (repeat the parameter)"})
