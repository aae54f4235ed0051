"""Instructions: reading them, and the unit's and desk's actions on them (处置/反馈), each in one transaction.

Every change goes through `machine.apply` (checks, stamps, audit, timeline); domain events
leave after commit. Row locks: the incident, then the instruction, so two units closing the
last two instructions of one incident cannot both miss that the incident is resolved.
Issuing lives in `issuing` (re-exported here as `issue`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.blueprints.incidents.models import Incident
from app.blueprints.instructions import events as ev
from app.blueprints.instructions import extensions
from app.blueprints.instructions import machine
from app.blueprints.instructions.issuing import issue  # noqa: F401  (re-exported for the routes)
from app.blueprints.instructions.issuing import (IN_HAND, INACTIVE_STATES, check_unit_free, clocks_for, event,
                                                follow_instructions, lock_incident)
from app.blueprints.instructions.machine import State, Transition
from app.blueprints.instructions.models import (Feedback, FeedbackKind, Instruction, InstructionResponder,
                                                TimelineEvent)
from app.blueprints.instructions.results import RESULT_CODES, TEXT_REQUIRED
from app.blueprints.reminders import service as reminders
from app.blueprints.media.service import check_attachable
from app.blueprints.rosters.duty import on_duty
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common import events
from app.common.models import utcnow
from app.common.roles import UNIT_ROLES, Role
from app.common.sessions import keep_state_after_commit
from app.database import unit_of_work
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.extensions import db

EVENT_OF = {
    Transition.ACKNOWLEDGE: ev.InstructionAcknowledged,
    Transition.RETURN: ev.InstructionReturned,
    Transition.SET_OUT: ev.InstructionSetOut,
    Transition.ARRIVE: ev.InstructionArrived,
    Transition.PROGRESS: ev.InstructionProgressed,
    Transition.RESOLVE: ev.InstructionResolved,
    Transition.CANCEL: ev.InstructionCancelled,
    Transition.REOPEN: ev.InstructionReopened,
    Transition.REISSUE: ev.InstructionReissued,
    Transition.ACCEPT: ev.InstructionAccepted,
    Transition.REQUEST_EXTENSION: ev.ExtensionRequested,
    Transition.APPROVE_EXTENSION: ev.ExtensionApproved,
    Transition.REFUSE_EXTENSION: ev.ExtensionRefused,
}

# An instruction that reaches one of these no longer needs more time: a pending extension lapses.
_ENDING_STATES = frozenset({State.RESOLVED, State.RETURNED, State.CANCELLED})


# ---------------------------------------------------------------- reading

def _is_unit_only(actor) -> bool:
    return not actor.has_role(Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)


def _visible(instruction: Instruction | None, actor) -> Instruction:
    """Unit users see only their unit's instructions; a responder only those naming them."""
    if instruction is None:
        raise NotFound("instruction_not_found", "No such instruction.")
    if _is_unit_only(actor):
        if actor.unit_id != instruction.unit_id:
            raise Forbidden("not_your_unit", "This instruction is for another unit.")
        if not actor.has_role(Role.UNIT_LIAISON, Role.UNIT_LEADER) and actor.id not in instruction.responder_user_ids:
            raise Forbidden("not_assigned_to_you", "This instruction does not name you as a responder.")
    return instruction


def get_instruction(*, instruction_id: int, actor) -> Instruction:
    instruction = db.session.execute(select(Instruction).where(Instruction.id == instruction_id)).scalar_one_or_none()
    return _visible(instruction, actor)


def list_for_incident(*, incident_id: int, actor) -> list[Instruction]:
    if db.session.execute(select(Incident.id).where(Incident.id == incident_id)).first() is None:
        raise NotFound("incident_not_found", "No such incident.")
    statement = select(Instruction).where(Instruction.incident_id == incident_id)
    if _is_unit_only(actor):
        statement = statement.where(Instruction.unit_id == actor.unit_id)
    rows = list(db.session.execute(statement.order_by(Instruction.id)).scalars())
    if _is_unit_only(actor) and not actor.has_role(Role.UNIT_LIAISON, Role.UNIT_LEADER):
        rows = [row for row in rows if actor.id in row.responder_user_ids]
    return rows


def active_unit_ids(*, incident_id: int) -> set[int]:
    """Units holding an active (not returned, not cancelled) instruction on the incident: for masking."""
    return set(db.session.execute(select(Instruction.unit_id).where(
        Instruction.incident_id == incident_id,
        Instruction.state.not_in([s.value for s in INACTIVE_STATES]))).scalars())


def timeline_of(*, incident_id: int) -> list[TimelineEvent]:
    """Every recorded step of the incident, in the order it happened (for the incident timeline view)."""
    return list(db.session.execute(select(TimelineEvent).where(TimelineEvent.incident_id == incident_id)
                                   .order_by(TimelineEvent.id)).scalars())


def feedback_of(*, instruction_id: int, actor) -> list[Feedback]:
    get_instruction(instruction_id=instruction_id, actor=actor)
    return list(db.session.execute(select(Feedback).where(Feedback.instruction_id == instruction_id)
                                   .order_by(Feedback.id)).scalars())


# ---------------------------------------------------------------- transitions

def _transition(instruction_id: int, transition: Transition, *, actor, expected_version: int | None,
                client_time: datetime | None, data: dict, effect=None, facts=None) -> Instruction:
    """Lock the incident then the instruction, apply one transition, keep the incident in step.

    `facts(instruction)` adds what the machine's guards need to know from other rows (a pending
    extension), read under the lock; `effect(instruction)` completes the change after the checks passed.
    """
    keep_state_after_commit()  # the route answers with the instruction as written
    with unit_of_work() as uow:
        # The incident of the instruction, locked, in one statement (an instruction never changes incident).
        incident = db.session.execute(
            select(Incident).where(Incident.id == select(Instruction.incident_id)
                                   .where(Instruction.id == instruction_id).scalar_subquery())
            .with_for_update().execution_options(populate_existing=True)).scalar_one_or_none()
        if incident is None:
            raise NotFound("instruction_not_found", "No such instruction.")
        # Then the instruction, with its responders in the same statement (the lock is the instruction's row).
        instruction = db.session.execute(
            select(Instruction).where(Instruction.id == instruction_id)
            .options(joinedload(Instruction.responders))
            .with_for_update(of=Instruction).execution_options(populate_existing=True)).unique().scalar_one()
        on_duty_now = False
        if (actor.has_role(Role.RESPONDER) and transition in machine.ON_DUTY_TRANSITIONS
                and actor.unit_id == instruction.unit_id):
            on_duty_now = any(shift.user.id == actor.id for shift in on_duty(unit_id=instruction.unit_id))
        known = facts(instruction) if facts is not None else {}
        if incident.state not in IN_HAND:
            # A closed, cancelled or merged incident is final: its instructions stay as they ended.
            machine.check(instruction, transition, actor=actor, expected_version=expected_version, data=data,
                          actor_is_on_duty=on_duty_now, facts=known)
            raise Conflict("incident_not_open", f"The incident is {incident.state}; its instructions are final.")
        # The journal's queries must not flush the row before the effect completes it (a return's reason).
        with db.session.no_autoflush:
            machine.apply(instruction, transition, actor=actor, expected_version=expected_version,
                          client_time=client_time, data=data, actor_is_on_duty=on_duty_now, facts=known)
            if effect is not None:
                effect(instruction)
        if State(instruction.state) in _ENDING_STATES:
            extensions.lapse_pending(instruction)
        reminders.after_transition(uow, instruction, transition)
        db.session.flush()
        follow_instructions(incident, actor=actor, instruction=instruction)
        uow.after_commit(events.publish, event(EVENT_OF[transition], instruction, actor))
    return instruction


def _feedback(instruction: Instruction, kind: FeedbackKind, *, actor, client_time, text="", position=None,
              media_ids=()) -> Feedback:
    """One report of the unit; the photos it names count towards the instruction's photo cap (409
    `media_limit_reached`), uploaded already or not (an offline phone sends the report first)."""
    position = position or {}
    if media_ids:
        check_attachable(instruction.id, list(media_ids))
    row = Feedback(tenant_id=instruction.tenant_id, instruction_id=instruction.id, kind=kind.value, text=text or "",
                   author_user_id=actor.id, at=utcnow(), client_at=client_time,
                   latitude=position.get("latitude"), longitude=position.get("longitude"),
                   accuracy_m=position.get("accuracy_m"), media_ids=list(media_ids or []))
    db.session.add(row)
    return row


def acknowledge(*, instruction_id: int, actor, responder_ids: list[int] = (), version: int | None = None,
                client_time: datetime | None = None) -> Instruction:
    """签收: the unit accepts the instruction and names the responders it sends (users of the unit)."""
    responder_ids = list(dict.fromkeys(responder_ids or []))

    def name_responders(instruction: Instruction) -> None:
        if not responder_ids:
            return
        users = db.session.execute(select(User.id, User.roles).where(
            User.id.in_(responder_ids), User.unit_id == instruction.unit_id, User.is_active.is_(True))).all()
        known = {user.id for user in users if set(user.roles) & {r.value for r in UNIT_ROLES}}
        if missing := [uid for uid in responder_ids if uid not in known]:
            raise Unprocessable("responder_not_in_unit", "Responders must be active users of the instructed unit.",
                                errors={"responder_ids": [f"Not a user of this unit: {uid}" for uid in missing]})
        for uid in responder_ids:
            instruction.responders.append(InstructionResponder(tenant_id=instruction.tenant_id, user_id=uid))

    return _transition(instruction_id, Transition.ACKNOWLEDGE, actor=actor, expected_version=version,
                       client_time=client_time, data={"responder_ids": responder_ids}, effect=name_responders)


def return_(*, instruction_id: int, actor, reason: str = "", version: int | None = None,
            client_time: datetime | None = None) -> Instruction:
    """退回: the unit sends the instruction back as not its job; a reason is required."""
    reason = (reason or "").strip()

    def keep_reason(instruction: Instruction) -> None:
        instruction.return_reason = reason

    return _transition(instruction_id, Transition.RETURN, actor=actor, expected_version=version,
                       client_time=client_time, data={"reason": reason}, effect=keep_reason)


def set_out(*, instruction_id: int, actor, version: int | None = None,
            client_time: datetime | None = None) -> Instruction:
    """出发: the responders are on their way."""
    return _transition(instruction_id, Transition.SET_OUT, actor=actor, expected_version=version,
                       client_time=client_time, data={})


def arrive(*, instruction_id: int, actor, version: int | None = None, client_time: datetime | None = None,
           text: str = "", position: dict | None = None, media_ids=()) -> Instruction:
    """到场反馈: arrival, with the phone's arrival time, position and accuracy, situation and photos."""
    def report(instruction: Instruction) -> None:
        _feedback(instruction, FeedbackKind.ARRIVAL, actor=actor, client_time=client_time, text=text,
                  position=position, media_ids=media_ids)

    return _transition(instruction_id, Transition.ARRIVE, actor=actor, expected_version=version,
                       client_time=client_time, data={"text": text, "media_ids": list(media_ids or []),
                                                      **(position or {})}, effect=report)


def progress(*, instruction_id: int, actor, text: str, version: int | None = None,
             client_time: datetime | None = None, position: dict | None = None, media_ids=()) -> Instruction:
    """处置反馈: how the handling is going; the state stays."""
    def report(instruction: Instruction) -> None:
        _feedback(instruction, FeedbackKind.PROGRESS, actor=actor, client_time=client_time, text=text,
                  position=position, media_ids=media_ids)

    return _transition(instruction_id, Transition.PROGRESS, actor=actor, expected_version=version,
                       client_time=client_time, data={"text": text, "media_ids": list(media_ids or [])},
                       effect=report)


def resolve(*, instruction_id: int, actor, result_code: str, text: str = "", version: int | None = None,
            client_time: datetime | None = None, position: dict | None = None, media_ids=()) -> Instruction:
    """处置结果: the result code (docs/result-codes.md), text and photos."""
    if result_code not in RESULT_CODES:
        raise Unprocessable("unknown_result_code", "Not a known result code.",
                            errors={"result_code": [f"One of {', '.join(RESULT_CODES)}."]})
    if result_code in TEXT_REQUIRED and not (text or "").strip():
        raise Unprocessable("result_text_required", f"Result code {result_code} needs a text.",
                            errors={"text": ["Say what was done."]})

    def report(instruction: Instruction) -> None:
        instruction.result_code, instruction.result_text = result_code, text
        _feedback(instruction, FeedbackKind.RESULT, actor=actor, client_time=client_time, text=text,
                  position=position, media_ids=media_ids)

    return _transition(instruction_id, Transition.RESOLVE, actor=actor, expected_version=version,
                       client_time=client_time, data={"result_code": result_code, "text": text,
                                                      "media_ids": list(media_ids or [])}, effect=report)


def cancel(*, instruction_id: int, actor, reason: str = "", version: int | None = None) -> Instruction:
    """撤销: the desk withdraws an instruction that is still running."""
    return _transition(instruction_id, Transition.CANCEL, actor=actor, expected_version=version, client_time=None,
                       data={"reason": reason})


def reopen(*, instruction_id: int, actor, reason: str = "", version: int | None = None) -> Instruction:
    """重办: a resolved instruction goes back to the unit after a failed review or a dissatisfied callback."""
    def redo(instruction: Instruction) -> None:
        instruction.redo_count += 1

    return _transition(instruction_id, Transition.REOPEN, actor=actor, expected_version=version, client_time=None,
                       data={"reason": reason}, effect=redo)


def review(*, instruction_id: int, actor, outcome: str, note: str = "", version: int | None = None) -> Instruction:
    """审核: the desk checks a resolved instruction's result, and accepts it or sends it back for redo (重办)."""
    note = (note or "").strip()
    if outcome == "accepted":
        return _transition(instruction_id, Transition.ACCEPT, actor=actor, expected_version=version,
                           client_time=None, data={"note": note})
    if not note:
        raise Unprocessable("review_note_required", "Say why the result is sent back.",
                            errors={"note": ["Missing data for required field."]})
    return reopen(instruction_id=instruction_id, actor=actor, reason=note, version=version)


def request_extension(*, instruction_id: int, actor, reason: str, resolve_by: datetime, version: int | None = None,
                      client_time: datetime | None = None) -> Instruction:
    """延期申请: the unit asks for a later resolve deadline, with a reason; one request pending at a time."""
    reason = (reason or "").strip()
    return _transition(instruction_id, Transition.REQUEST_EXTENSION, actor=actor, expected_version=version,
                       client_time=client_time, data={"reason": reason, "resolve_by": resolve_by},
                       facts=extensions.pending_fact,
                       effect=lambda instruction: extensions.record_request(
                           instruction, actor=actor, reason=reason, resolve_by=resolve_by, client_time=client_time))


def approve_extension(*, instruction_id: int, actor, resolve_by: datetime | None = None, note: str = "",
                      version: int | None = None) -> Instruction:
    """批准延期: the resolve deadline moves to the requested time, or to the one the desk grants."""
    return _transition(instruction_id, Transition.APPROVE_EXTENSION, actor=actor, expected_version=version,
                       client_time=None, data={"note": note, "resolve_by": resolve_by},
                       facts=extensions.pending_fact,
                       effect=lambda instruction: extensions.approve(instruction, actor=actor, resolve_by=resolve_by,
                                                                     note=note))


def refuse_extension(*, instruction_id: int, actor, note: str = "", version: int | None = None) -> Instruction:
    """不予延期: the deadline stays; the desk says why."""
    note = (note or "").strip()
    return _transition(instruction_id, Transition.REFUSE_EXTENSION, actor=actor, expected_version=version,
                       client_time=None, data={"note": note}, facts=extensions.pending_fact,
                       effect=lambda instruction: extensions.refuse(instruction, actor=actor, note=note))


def extensions_of(*, instruction_id: int, actor):
    get_instruction(instruction_id=instruction_id, actor=actor)
    return extensions.history(instruction_id)


def reissue(*, instruction_id: int, actor, note: str = "", version: int | None = None) -> Instruction:
    """驳回退回: the desk overrules a return and re-issues the instruction to the same unit with fresh clocks.

    The overruled return counts against the unit (`is_overruled_return`). To give the job to another
    unit instead, issue a new instruction for the incident.
    """
    def overrule(instruction: Instruction) -> None:
        incident = db.session.get(Incident, (instruction.tenant_id, instruction.incident_id))
        unit = db.session.get(Unit, (instruction.tenant_id, instruction.unit_id))
        check_unit_free(instruction.incident_id, instruction.unit_id, except_id=instruction.id)
        plan = clocks_for(incident, unit, instruction.issued_at, instruction.needs_site_visit)
        instruction.is_overruled_return = True
        instruction.acknowledge_by = plan.deadlines.acknowledge_by
        instruction.arrive_by = plan.deadlines.arrive_by
        instruction.resolve_by = plan.deadlines.resolve_by
        if note:
            instruction.note = note
        instruction.responders.clear()

    return _transition(instruction_id, Transition.REISSUE, actor=actor, expected_version=version, client_time=None,
                       data={"note": note}, effect=overrule)
