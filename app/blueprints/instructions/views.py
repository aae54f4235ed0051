"""Lists of instructions for the people who work them: a unit's inbox and a responder's own tasks."""
from __future__ import annotations

from sqlalchemy import select

from app.blueprints.instructions.models import Instruction, InstructionResponder, with_responder_ids
from app.blueprints.units.models import Unit
from app.common.listing import COUNT_LIMIT, paginate
from app.common.roles import Role
from app.errors import Forbidden, NotFound
from app.extensions import db

_READS_EVERY_UNIT = (Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)


def _filtered(statement, state: list[str] | None):
    if state:
        statement = statement.where(Instruction.state.in_(state))
    return statement.options(*with_responder_ids()).order_by(Instruction.id.desc())


def unit_inbox(*, unit_id: int, actor, pagination, state: list[str] | None = None) -> list[Instruction]:
    """A unit's inbox (单位待办): its instructions, newest first. Unit users see only their own unit's;
    a responder only those naming them."""
    # A user's own unit exists (users reference it by foreign key, in their tenant): no query for it.
    own_unit = actor.unit_id == unit_id and actor.tenant_id is not None
    if not own_unit and db.session.execute(select(Unit.id).where(Unit.id == unit_id)).first() is None:
        raise NotFound("unit_not_found", "No such unit.")
    statement = select(Instruction).where(Instruction.unit_id == unit_id)
    if not actor.has_role(*_READS_EVERY_UNIT):
        if actor.unit_id != unit_id:
            raise Forbidden("not_your_unit", "This is another unit's inbox.")
        if not actor.has_role(Role.UNIT_LIAISON, Role.UNIT_LEADER):
            statement = statement.where(Instruction.id.in_(
                select(InstructionResponder.instruction_id).where(InstructionResponder.user_id == actor.id)))
    return paginate(_filtered(statement, state), pagination, count_limit=COUNT_LIMIT)


def my_tasks(*, actor, pagination, state: list[str] | None = None) -> list[Instruction]:
    """The caller's own tasks (我的任务): instructions that name them as a responder, newest first."""
    statement = select(Instruction).where(Instruction.id.in_(
        select(InstructionResponder.instruction_id).where(InstructionResponder.user_id == actor.id)))
    return paginate(_filtered(statement, state), pagination, count_limit=COUNT_LIMIT)
