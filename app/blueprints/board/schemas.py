"""The desk board's query and rows."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from app.blueprints.catalogue.models import Severity
from app.blueprints.incidents.models import IncidentState
from app.blueprints.incidents.schemas import IncidentOut
from app.blueprints.instructions.machine import State
from app.blueprints.instructions.schemas import InstructionOut
from app.common.dumping import FastDump
from app.common.fields import QueryId


class BoardArgs(ma.Schema):
    state = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in IncidentState])),
                           metadata={"description": "Incident states (repeat the parameter); default open and "
                                                    "resolved, i.e. still in hand"})
    severity = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in Severity])))
    unit_id = QueryId(metadata={"description": "Only incidents with an instruction to this unit"})
    instruction_state = ma.fields.List(ma.fields.String(validate=validate.OneOf([s.value for s in State])),
                                       metadata={"description": "Only incidents with an instruction in these states"})
    overdue = ma.fields.Boolean(metadata={"description": "true: an instruction (of `unit_id`, in "
                                                         "`instruction_state`, if given) has a clock run out; "
                                                         "false: such an instruction is on time (without "
                                                         "`unit_id`/`instruction_state`: no instruction is late)"})


class BoardInstructionOut(FastDump, ma.Schema):
    instruction = ma.fields.Nested(InstructionOut)
    unit_name = ma.fields.String()
    unit_short_name = ma.fields.String(allow_none=True)
    overdue = ma.fields.List(ma.fields.String(), metadata={"description": "Clocks run out: `acknowledge`, "
                                                                          "`arrive`, `resolve`"})
    has_pending_extension = ma.fields.Boolean()


class BoardRowOut(FastDump, ma.Schema):
    incident = ma.fields.Nested(IncidentOut)
    instructions = ma.fields.List(ma.fields.Nested(BoardInstructionOut))
    is_overdue = ma.fields.Boolean()
