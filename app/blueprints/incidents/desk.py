"""The desk's and office's actions on a whole incident: urge (催办), callback (回访), close (办结) and
cancel as a false report (误报), each in one transaction through `incidents.machine.apply`.

Instructions the action touches (a redo's lead instruction, a false report's live ones) move through
the instruction machine in the same transaction; their events leave after commit.
"""
from __future__ import annotations

from sqlalchemy import select

from app.blueprints.incidents import machine
from app.blueprints.incidents.machine import Transition
from app.blueprints.incidents.models import Incident, Satisfaction
from app.blueprints.instructions import events as ev
from app.blueprints.instructions import machine as instruction_machine
from app.blueprints.instructions.issuing import event, lock_incident
from app.blueprints.instructions.machine import State
from app.blueprints.instructions.models import Instruction
from app.blueprints.notifications.service import notify
from app.blueprints.users.models import User
from app.common import events
from app.common.roles import Role
from app.database import unit_of_work
from app.errors import Conflict, NotFound
from app.extensions import db

LIVE_STATES = frozenset({State.ISSUED, State.ACKNOWLEDGED, State.EN_ROUTE, State.ON_SCENE})


def _instructions(incident_id: int) -> list[Instruction]:
    return list(db.session.execute(select(Instruction).where(Instruction.incident_id == incident_id)
                                   .order_by(Instruction.id).with_for_update()
                                   .execution_options(populate_existing=True)).scalars())


def _liaisons(tenant_id: int, unit_id: int) -> list[User]:
    return list(db.session.execute(select(User).where(
        User.tenant_id == tenant_id, User.unit_id == unit_id, User.is_active.is_(True),
        User.roles.contains([Role.UNIT_LIAISON.value]))).unique().scalars())


def urge(*, incident_id: int, actor, instruction_id: int, note: str, version: int | None = None) -> Incident:
    """催办: the desk presses a unit on one live instruction; a timeline step and an inbox notice to its liaison."""
    with unit_of_work():
        incident = lock_incident(incident_id)
        machine.check(incident, Transition.URGE, actor=actor, expected_version=version)
        instruction = db.session.execute(select(Instruction).where(
            Instruction.id == instruction_id, Instruction.incident_id == incident_id)).scalar_one_or_none()
        if instruction is None:
            raise NotFound("instruction_not_found", "No such instruction on this incident.")
        if State(instruction.state) not in LIVE_STATES:
            raise Conflict("instruction_not_live", f"An instruction in state {instruction.state} cannot be urged.")
        machine.apply(incident, Transition.URGE, actor=actor, expected_version=version,
                      data={"instruction_id": instruction.id, "unit_id": instruction.unit_id, "note": note})
        notify(tenant_id=incident.tenant_id, recipients=_liaisons(incident.tenant_id, instruction.unit_id),
               kind="instruction.urged", title=f"催办：{incident.number}", cause=f"{instruction.id}:{incident.version}",
               body=note, data={"incident_id": incident.id, "instruction_id": instruction.id})
    return incident


def callback(*, incident_id: int, actor, satisfaction: str, note: str = "", version: int | None = None) -> Incident:
    """回访: the desk calls the citizen back. Dissatisfied means redo (重办): the lead instruction reopens."""
    satisfaction = Satisfaction(satisfaction)
    transition = Transition.REDO if satisfaction == Satisfaction.DISSATISFIED else Transition.CALLBACK
    with unit_of_work() as uow:
        incident = lock_incident(incident_id)
        machine.check(incident, transition, actor=actor, expected_version=version)
        reopened = []
        if transition == Transition.REDO:
            resolved = [row for row in _instructions(incident_id) if State(row.state) == State.RESOLVED]
            lead = [row for row in resolved if row.role == "lead"] or resolved[:1]
            for instruction in lead:
                with db.session.no_autoflush:
                    instruction_machine.apply(instruction, instruction_machine.Transition.REOPEN, actor=actor,
                                              data={"reason": note or "回访不满意"})
                instruction.redo_count += 1
                reopened.append(instruction)
        incident.satisfaction, incident.callback_note = satisfaction.value, note
        if transition == Transition.REDO:
            incident.resolved_at = None
        machine.apply(incident, transition, actor=actor, expected_version=version,
                      data={"satisfaction": satisfaction.value, "note": note,
                            "reopened_instruction_ids": [row.id for row in reopened]})
        for instruction in reopened:
            uow.after_commit(events.publish, event(ev.InstructionReopened, instruction, actor))
    return incident


def close(*, incident_id: int, actor, note: str = "", version: int | None = None) -> Incident:
    """办结: every instruction resolved and a satisfied callback recorded."""
    with unit_of_work():
        incident = lock_incident(incident_id)
        machine.apply(incident, Transition.CLOSE, actor=actor, expected_version=version, data={"note": note})
    return incident


def cancel(*, incident_id: int, actor, reason: str, version: int | None = None) -> Incident:
    """误报: the desk cancels the incident as a false report, and with it every live instruction."""
    with unit_of_work() as uow:
        incident = lock_incident(incident_id)
        machine.check(incident, Transition.CANCEL, actor=actor, expected_version=version)
        cancelled = []
        for instruction in _instructions(incident_id):
            if State(instruction.state) in LIVE_STATES:
                with db.session.no_autoflush:
                    instruction_machine.apply(instruction, instruction_machine.Transition.CANCEL, actor=actor,
                                              data={"reason": reason})
                cancelled.append(instruction)
        incident.cancel_reason = reason
        machine.apply(incident, Transition.CANCEL, actor=actor, expected_version=version,
                      data={"reason": reason, "cancelled_instruction_ids": [row.id for row in cancelled]})
        for instruction in cancelled:
            uow.after_commit(events.publish, event(ev.InstructionCancelled, instruction, actor))
    return incident
