"""Instructions API: the desk issues (通知), the unit acts and reports back (处置/反馈).

- POST /api/v1/t/<tenant_code>/incidents/<incident_id>/instructions (desk) issues one instruction per unit;
- POST /api/v1/t/<tenant_code>/instructions/<instruction_id>/<action> moves one instruction.
Every POST takes `Idempotency-Key`; transitions take `If-Match: "<version>"` (the GET's ETag) or `version`.
A unit user acts only on their unit's instructions (403 `not_your_unit`), a responder only on those
naming them (403 `not_assigned_to_you`).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_jwt_extended import current_user

from app.blueprints.instructions import service, views
from app.blueprints.instructions.schemas import (AcknowledgeIn, ArriveIn, DeskActionIn, ExtensionApproveIn,
                                                 ExtensionOut, ExtensionRefuseIn, ExtensionRequestIn, FeedbackOut,
                                                 InstructionListArgs, InstructionOut, IssueIn, ProgressIn, ReissueIn,
                                                 ResolveIn, ReturnIn, ReviewIn, SetOutIn)
from app.common.authz import requires
from app.common.listing import PagedBlueprint
from app.common.idempotency import idempotent
from app.common.read_cache import cached_read
from app.common.versions import expected_version
from app.common.roles import TENANT_ROLES, Role

blp = PagedBlueprint("instructions", __name__, url_prefix="/api/v1/t/<tenant_code>",
                      description="Instructions (指令): issue, acknowledge, return, arrive, resolve, cancel, redo")

READERS = (*sorted(TENANT_ROLES), Role.PROVINCIAL_SUPERVISOR)
UNIT = (Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER)
DESK = (Role.DISPATCHER, Role.TENANT_ADMIN)
ONE = "/instructions/<int:instruction_id>"


def _with_etag(instruction):
    return instruction, 200, {"ETag": instruction.etag}


@blp.route("/incidents/<int:incident_id>/instructions")
class IncidentInstructions(MethodView):
    @requires(*READERS)
    @blp.response(200, InstructionOut(many=True))
    def get(self, tenant_code, incident_id):
        """The incident's instructions; a unit user sees their unit's, a responder those naming them."""
        return service.list_for_incident(incident_id=incident_id, actor=current_user)

    @idempotent
    @requires(Role.DISPATCHER)
    @blp.arguments(IssueIn)
    @blp.response(201, InstructionOut(many=True))
    @blp.alt_response(409, description="Incident not open (`incident_not_open`), unit already instructed "
                                       "(`unit_already_instructed`), no police unit (`no_police_unit`)")
    def post(self, body, tenant_code, incident_id):
        """Issue instructions (通知下达): one per unit, lead (主办) or assist (协办), with a note.

        Route `police_first` adds the police unit (first response) in the same transaction; a major
        incident tells the leadership group. Deadlines come from the time-limit policy.
        """
        return service.issue(incident_id=incident_id, actor=current_user, **body)


@blp.route(ONE)
class InstructionById(MethodView):
    @requires(*READERS)
    @blp.response(200, InstructionOut, headers={"ETag": {"description": "The version, for If-Match",
                                                         "schema": {"type": "string"}}})
    def get(self, tenant_code, instruction_id):
        """One instruction with its clocks and state times; the ETag is its version."""
        return _with_etag(service.get_instruction(instruction_id=instruction_id, actor=current_user))


@blp.route(f"{ONE}/feedback")
class InstructionFeedback(MethodView):
    @requires(*READERS)
    @blp.response(200, FeedbackOut(many=True))
    def get(self, tenant_code, instruction_id):
        """The unit's reports on the instruction (arrival, progress, result), oldest first."""
        return service.feedback_of(instruction_id=instruction_id, actor=current_user)


@blp.route(f"{ONE}/extensions")
class InstructionExtensions(MethodView):
    @requires(*READERS)
    @blp.response(200, ExtensionOut(many=True))
    def get(self, tenant_code, instruction_id):
        """The instruction's extension requests (延期申请) and their decisions, oldest first."""
        return service.extensions_of(instruction_id=instruction_id, actor=current_user)


def _unit_action(name: str, schema, fn, doc: str, roles=UNIT):
    @idempotent
    @requires(*roles)
    @blp.arguments(schema)
    @blp.response(200, InstructionOut)
    @blp.alt_response(409, description="Not allowed in the current state (`illegal_transition`)")
    @blp.alt_response(412, description="Stale version (`version_mismatch`)")
    def post(self, body, tenant_code, instruction_id):
        version = expected_version(body)
        return _with_etag(fn(instruction_id=instruction_id, actor=current_user, version=version, **body))

    post.__doc__ = doc
    view = type(name, (MethodView,), {"post": post})
    return view


_ACTIONS = [
    ("acknowledge", "Acknowledge", AcknowledgeIn, service.acknowledge,
     "Acknowledge (签收) and name the responders sent (users of the unit).", UNIT),
    ("return", "Return", ReturnIn, service.return_,
     "Return (退回) as not this unit's job; a reason is required.", UNIT),
    ("set-out", "SetOut", SetOutIn, service.set_out, "Set out (出发).", UNIT),
    ("arrive", "Arrive", ArriveIn, service.arrive,
     "Arrival (到场反馈): client time, position with accuracy, situation text, photo ids.", UNIT),
    ("progress", "Progress", ProgressIn, service.progress, "Progress report (处置反馈); the state stays.", UNIT),
    ("resolve", "Resolve", ResolveIn, service.resolve,
     "Result (处置结果): a result code (docs/result-codes.md), text, photo ids.", UNIT),
    ("cancel", "Cancel", DeskActionIn, service.cancel, "Cancel (撤销) a running instruction; desk or office.", DESK),
    ("reopen", "Reopen", DeskActionIn, service.reopen,
     "Redo (重办) a resolved instruction after a failed review or dissatisfied callback.", DESK),
    ("reissue", "Reissue", ReissueIn, service.reissue,
     "Overrule a return and re-issue to the same unit; the return counts against the unit.", DESK),
    ("review", "Review", ReviewIn, service.review,
     "Review (审核) a resolved instruction: accept it, or send it back for redo (重办) with a note. "
     "An incident closes only when every resolved instruction is accepted.", DESK),
    ("request-extension", "RequestExtension", ExtensionRequestIn, service.request_extension,
     "Ask for more time (延期申请): a later resolve deadline and a reason; one request pending at a time "
     "(409 `extension_pending`).", UNIT),
    ("approve-extension", "ApproveExtension", ExtensionApproveIn, service.approve_extension,
     "Approve the pending extension (批准延期): the resolve deadline moves to the requested time or the one "
     "given here (409 `no_pending_extension`).", DESK),
    ("refuse-extension", "RefuseExtension", ExtensionRefuseIn, service.refuse_extension,
     "Refuse the pending extension (不予延期) with a note; the deadline stays.", DESK),
]

for _path, _name, _schema, _fn, _doc, _roles in _ACTIONS:
    blp.route(f"{ONE}/{_path}", endpoint=_name)(_unit_action(_name, _schema, _fn, _doc, _roles))


@blp.route("/units/<int:unit_id>/instructions")
class UnitInbox(MethodView):
    @requires(*READERS)
    @cached_read  # unit phones poll it
    @blp.arguments(InstructionListArgs, location="query")
    @blp.response(200, InstructionOut(many=True))
    @blp.paginate(max_page_size=200)
    def get(self, args, tenant_code, unit_id, pagination_parameters):
        """A unit's inbox (单位待办), newest first, filterable by state. Unit users read only their own
        unit's (403 `not_your_unit`); a responder only the instructions naming them."""
        return views.unit_inbox(unit_id=unit_id, actor=current_user, pagination=pagination_parameters, **args)


@blp.route("/my/instructions")
class MyTasks(MethodView):
    @requires(*UNIT)
    @cached_read  # responders' phones poll it
    @blp.arguments(InstructionListArgs, location="query")
    @blp.response(200, InstructionOut(many=True))
    @blp.paginate(max_page_size=200)
    def get(self, args, tenant_code, pagination_parameters):
        """My tasks (我的任务): the instructions naming the caller as a responder, newest first."""
        return views.my_tasks(actor=current_user, pagination=pagination_parameters, **args)
