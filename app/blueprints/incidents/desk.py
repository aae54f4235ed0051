"""The desk's and office's actions on a whole incident: urge (催办), callback (回访), close (办结),
cancel as a false report (误报) and merge into another incident (并案), each in one transaction
through `incidents.machine.apply`.

Instructions the action touches (a redo's lead instruction, the live ones of a false report or a
merged duplicate) move through the instruction machine in the same transaction; their events leave
after commit.
"""
from __future__ import annotations

from sqlalchemy import select

from app.blueprints.incidents import machine
from app.blueprints.incidents.machine import Transition
from app.blueprints.audit import service as audit
from app.blueprints.incidents.models import Incident, IncidentCall, IncidentState, Satisfaction
from app.blueprints.incidents.service import get_incident
from app.blueprints.instructions import events as ev
from app.blueprints.instructions import extensions
from app.blueprints.instructions import machine as instruction_machine
from app.blueprints.instructions.issuing import event, lock_incident
from app.blueprints.instructions.journal import add_event
from app.blueprints.instructions.machine import LIVE_STATES, State
from app.blueprints.instructions.models import Instruction
from app.blueprints.notifications.service import notify
from app.blueprints.reminders import service as reminders
from app.blueprints.rosters.duty import on_duty
from app.blueprints.users.models import User
from app.common import events
from app.common.models import utcnow
from app.common.roles import Role
from app.database import unit_of_work
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db


def _instructions(incident_id: int) -> list[Instruction]:
    return list(db.session.execute(select(Instruction).where(Instruction.incident_id == incident_id)
                                   .order_by(Instruction.id).with_for_update()
                                   .execution_options(populate_existing=True)).scalars())


def _urge_recipients(instruction: Instruction) -> list[User]:
    """Who hears a 催办: the unit's liaisons, whoever is on duty for it now, and the responders it named."""
    liaisons = db.session.execute(select(User).where(
        User.unit_id == instruction.unit_id, User.is_active.is_(True),
        User.roles.contains([Role.UNIT_LIAISON.value]))).unique().scalars()
    named = db.session.execute(select(User).where(
        User.id.in_(instruction.responder_user_ids), User.is_active.is_(True))).unique().scalars()
    on_duty_now = [shift.user for shift in on_duty(unit_id=instruction.unit_id) if shift.is_eligible]
    return list({user.id: user for user in [*liaisons, *on_duty_now, *named]}.values())


def urge(*, incident_id: int, actor, instruction_id: int, note: str, version: int | None = None) -> Incident:
    """催办: the desk presses a unit on one live instruction; a timeline step and an inbox notice to the unit's
    liaisons, the people on duty now and the responders it named."""
    with unit_of_work() as uow:
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
        recipients = _urge_recipients(instruction)
        notify(tenant_id=incident.tenant_id, recipients=recipients,
               kind="instruction.urged", title=f"催办：{incident.number}", cause=f"{instruction.id}:{incident.version}",
               body=note, data={"incident_id": incident.id, "instruction_id": instruction.id})
        reminders.urged(uow, incident=incident, instruction=instruction, actor=actor, note=note, users=recipients,
                        cause=f"{instruction.id}:{incident.version}")
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
                reminders.after_transition(uow, instruction, instruction_machine.Transition.REOPEN)
                instruction.redo_count += 1
                reopened.append(instruction)
        incident.satisfaction, incident.callback_note = satisfaction.value, note
        machine.apply(incident, transition, actor=actor, expected_version=version,
                      data={"satisfaction": satisfaction.value, "note": note,
                            "reopened_instruction_ids": [row.id for row in reopened]})
        for instruction in reopened:
            uow.after_commit(events.publish, event(ev.InstructionReopened, instruction, actor))
    return incident


def close(*, incident_id: int, actor, note: str = "", version: int | None = None) -> Incident:
    """办结: every resolved instruction reviewed (审核) and a satisfied callback recorded."""
    with unit_of_work():
        incident = lock_incident(incident_id)
        unreviewed = list(db.session.execute(select(Instruction.id).where(
            Instruction.incident_id == incident_id, Instruction.state == State.RESOLVED.value,
            Instruction.reviewed_at.is_(None)).order_by(Instruction.id)).scalars())
        machine.apply(incident, Transition.CLOSE, actor=actor, expected_version=version,
                      data={"note": note, "unreviewed_instruction_ids": unreviewed})
    return incident


def _cancel_live_instructions(uow, incident_id: int, *, actor, reason: str) -> list[Instruction]:
    """Cancel every live instruction of the incident (false report, merged duplicate); events after commit."""
    cancelled = []
    for instruction in _instructions(incident_id):
        if State(instruction.state) in LIVE_STATES:
            with db.session.no_autoflush:
                instruction_machine.apply(instruction, instruction_machine.Transition.CANCEL, actor=actor,
                                          data={"reason": reason})
            extensions.lapse_pending(instruction)
            reminders.after_transition(uow, instruction, instruction_machine.Transition.CANCEL)
            cancelled.append(instruction)
            uow.after_commit(events.publish, event(ev.InstructionCancelled, instruction, actor))
    return cancelled


def cancel(*, incident_id: int, actor, reason: str, version: int | None = None) -> Incident:
    """误报: the desk cancels the incident as a false report, and with it every live instruction."""
    with unit_of_work() as uow:
        incident = lock_incident(incident_id)
        machine.check(incident, Transition.CANCEL, actor=actor, expected_version=version)
        cancelled = _cancel_live_instructions(uow, incident_id, actor=actor, reason=reason)
        incident.cancel_reason = reason
        machine.apply(incident, Transition.CANCEL, actor=actor, expected_version=version,
                      data={"reason": reason, "cancelled_instruction_ids": [row.id for row in cancelled]})
    return incident


def merge(*, incident_id: int, actor, into_incident_id: int, note: str = "", version: int | None = None) -> Incident:
    """并案: an open incident recorded twice joins the other one (the survivor).

    Its call is kept as a repeat call of the survivor, its live instructions are cancelled (the
    survivor's instructions carry the work), and both timelines say what happened.
    """
    with unit_of_work() as uow:
        # Refuse what the merged incident alone decides (not found, state, version) before the survivor is
        # looked at; then lock both rows in id order, so two desks merging a pair both ways cannot deadlock.
        machine.check(get_incident(incident_id=incident_id), Transition.MERGE, actor=actor, expected_version=version)
        if into_incident_id == incident_id:
            raise Unprocessable("merge_into_itself", "An incident cannot be merged into itself.",
                                errors={"into_incident_id": ["Name another incident."]})
        locked = {row_id: lock_incident(row_id) for row_id in sorted((incident_id, into_incident_id))}
        incident, survivor = locked[incident_id], locked[into_incident_id]
        machine.check(incident, Transition.MERGE, actor=actor, expected_version=version)
        if survivor.state not in (IncidentState.OPEN, IncidentState.RESOLVED):
            raise Conflict("merge_target_not_open", f"The incident to merge into is {survivor.state}.")
        reason = f"并案：并入 {survivor.number}"
        cancelled = _cancel_live_instructions(uow, incident_id, actor=actor, reason=reason)
        call = IncidentCall(tenant_id=incident.tenant_id, incident_id=survivor.id, received_at=incident.received_at,
                            source=incident.source, caller_name=incident.caller_name,
                            caller_phone=incident.caller_phone, description=incident.description,
                            merged_by_user_id=actor.id, merged_at=utcnow())
        db.session.add(call)
        incident.merged_into_id, incident.merged_by_user_id = survivor.id, actor.id
        machine.apply(incident, Transition.MERGE, actor=actor, expected_version=version,
                      data={"into_incident_id": survivor.id, "into_number": survivor.number, "note": note,
                            "cancelled_instruction_ids": [row.id for row in cancelled]})
        survivor.updated_at = utcnow()  # a new version: the survivor holds one more call
        db.session.flush()
        add_event(survivor.tenant_id, incident_id=survivor.id, kind="incident.absorbed", actor_user_id=actor.id,
                  at=utcnow(), data={"merged_incident_id": incident.id, "merged_number": incident.number,
                                     "call_id": call.id, "note": note})
        audit.record("incident.call_merged", tenant_id=survivor.tenant_id, actor=actor, target_type="incident",
                     target_id=survivor.id, after={"call_id": call.id, "merged_incident_id": incident.id})
    return incident
