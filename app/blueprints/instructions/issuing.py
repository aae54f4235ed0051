"""Issuing instructions (通知下达): one per unit, police first response, the leadership notice, clocks.

Shared with the transitions in `service`: the incident lock and the clock plan.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from app.blueprints.audit import service as audit
from app.blueprints.catalogue.models import Category, Severity
from app.blueprints.incidents import machine as incident_machine
from app.blueprints.incidents.models import Incident, IncidentState
from app.blueprints.instructions import events as ev
from app.blueprints.instructions import journal
from app.blueprints.instructions.machine import State
from app.blueprints.instructions.models import Instruction
from app.blueprints.notifications.service import notify
from app.blueprints.reminders import service as reminders
from app.blueprints.timelimits.service import plan_clocks
from app.blueprints.units.models import Unit, UnitKind
from app.blueprints.users.models import User
from app.common import events
from app.common.models import utcnow
from app.common.roles import Role
from app.common.sessions import keep_state_after_commit
from app.database import unit_of_work
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.tenants.models import Tenant

INACTIVE_STATES = frozenset({State.RETURNED, State.CANCELLED})
# An incident still in hand takes instructions and their steps; closed, cancelled and merged ones are final.
IN_HAND = frozenset({IncidentState.OPEN, IncidentState.RESOLVED})


def event(cls, instruction: Instruction, actor) -> ev.InstructionEvent:
    return cls(tenant_id=instruction.tenant_id, incident_id=instruction.incident_id, instruction_id=instruction.id,
               unit_id=instruction.unit_id, version=instruction.version, at=utcnow(),
               actor_user_id=getattr(actor, "id", None))


def lock_incident(incident_id: int) -> Incident:
    incident = db.session.execute(select(Incident).where(Incident.id == incident_id).with_for_update()
                                  .execution_options(populate_existing=True)).scalar_one_or_none()
    if incident is None:
        raise NotFound("incident_not_found", "No such incident.")
    return incident


def follow_instructions(incident: Incident, *, actor, instruction: Instruction) -> None:
    """The incident is resolved when every active instruction is; open again when one comes back to work.

    The move is a step of the incident machine by the same actor, so it is versioned and on the record.
    """
    if incident.state not in IN_HAND:
        return
    states = [State(s) for s in db.session.execute(select(Instruction.state).where(
        Instruction.incident_id == incident.id)).scalars()]
    active = [s for s in states if s not in INACTIVE_STATES]
    all_resolved = bool(active) and all(s == State.RESOLVED for s in active)
    if all_resolved and incident.state == IncidentState.OPEN:
        transition = incident_machine.Transition.WORK_DONE
    elif not all_resolved and incident.state == IncidentState.RESOLVED:
        transition = incident_machine.Transition.WORK_REOPENED
    else:
        return
    incident_machine.apply(incident, transition, actor=actor,
                           data={"caused_by_instruction_id": instruction.id, "unit_id": instruction.unit_id})


def _police_unit() -> Unit:
    unit = db.session.execute(select(Unit).where(Unit.kind == UnitKind.POLICE.value, Unit.is_active.is_(True))
                              .order_by(Unit.id).limit(1)).scalar_one_or_none()
    if unit is None:
        raise Conflict("no_police_unit", "The district has no active police unit to give first response.")
    return unit


def clocks_for(incident: Incident, unit: Unit, issued_at: datetime, needs_site_visit: bool | None):
    tenant = db.session.get(Tenant, incident.tenant_id)
    # The clocks need the category's own columns, not its assists and served duties (selectin otherwise).
    category = (db.session.execute(select(Category).where(Category.id == incident.category_id)
                                   .options(lazyload(Category.assists), lazyload(Category.served))
                                   ).scalar_one_or_none()
                if incident.category_id is not None else None)
    return plan_clocks(tenant=tenant, duty_class=unit.duty_class, severity=incident.severity,
                       area=incident.area_type, issued_at=issued_at, category=category,
                       needs_site_visit=needs_site_visit)


def _new_instruction(uow, incident: Incident, unit: Unit, *, role: str, note: str, actor, now: datetime,
                     needs_site_visit: bool | None, reissue_of_id: int | None = None) -> Instruction:
    plan = clocks_for(incident, unit, now, needs_site_visit)
    instruction = Instruction(
        tenant_id=incident.tenant_id, incident_id=incident.id, unit_id=unit.id, role=role, note=note,
        state=State.ISSUED.value, version=1, needs_site_visit=plan.needs_site_visit, issued_at=now,
        issued_by_user_id=actor.id, acknowledge_by=plan.deadlines.acknowledge_by,
        arrive_by=plan.deadlines.arrive_by, resolve_by=plan.deadlines.resolve_by, reissue_of_id=reissue_of_id,
        responders=[])  # none yet: an empty collection, so answering with it loads nothing
    db.session.add(instruction)
    db.session.flush()
    after = {"unit_id": unit.id, "role": role, "note": note, "acknowledge_by": instruction.acknowledge_by,
             "arrive_by": instruction.arrive_by, "resolve_by": instruction.resolve_by}
    audit.record("instruction.issued", tenant_id=incident.tenant_id, actor=actor, target_type="instruction",
                 target_id=instruction.id, after={"incident_id": incident.id, **after})
    journal.add_event(incident.tenant_id, incident_id=incident.id, instruction_id=instruction.id,
                      kind="instruction.issued", to_state=State.ISSUED.value, actor_user_id=actor.id, at=now,
                      data=journal._jsonable({**after, "reissue_of_id": reissue_of_id}))
    reminders.schedule(uow, instruction, plan.escalations, now=now)
    uow.after_commit(events.publish, event(ev.InstructionIssued, instruction, actor))
    return instruction


def check_unit_free(incident_id: int, unit_id: int, except_id: int | None = None) -> None:
    taken = db.session.execute(select(Instruction.id).where(
        Instruction.incident_id == incident_id, Instruction.unit_id == unit_id, Instruction.id != (except_id or 0),
        Instruction.state.not_in([s.value for s in INACTIVE_STATES]))).first()
    if taken is not None:
        raise Conflict("unit_already_instructed", "This unit already holds an active instruction for the incident.")


def _check_returned(incident_id: int, instruction_id: int, index: int) -> None:
    """A re-assignment (改派) names a returned instruction of the same incident."""
    state = db.session.execute(select(Instruction.state).where(Instruction.id == instruction_id,
                                                               Instruction.incident_id == incident_id)).scalar()
    if state != State.RETURNED:
        raise Unprocessable("reissue_of_not_returned", "Only a returned instruction of this incident is re-assigned.",
                            errors={"instructions": {str(index): {"reissue_of_id": ["Not a returned instruction "
                                                                                     "of this incident."]}}})


def _notify_leaders(incident: Incident, uow) -> None:
    leaders = list(db.session.execute(select(User).where(
        User.tenant_id == incident.tenant_id, User.is_active.is_(True),
        User.roles.contains([Role.LEADER.value]))).unique().scalars())
    notify(tenant_id=incident.tenant_id, recipients=leaders, kind="incident.major",
           title=f"重特大警情 {incident.number}", cause=f"incident:{incident.id}",
           body=incident.description[:500], data={"incident_id": incident.id, "number": incident.number})
    uow.after_commit(events.publish, ev.MajorIncidentInstructed(tenant_id=incident.tenant_id,
                                                                incident_id=incident.id, at=utcnow()))


def issue(*, incident_id: int, actor, instructions: list[dict], needs_site_visit: bool | None = None
          ) -> list[Instruction]:
    """Issue one instruction per unit (lead 主办 or assist 协办) for an incident in hand, in one transaction.

    On a resolved incident (a returned job given to another unit, a follow-up) the incident opens again.

    Route `police_first` also instructs the police unit (first response) when the desk did not name it;
    route `police` instructs the police unit only. A major incident tells the leadership group.
    """
    keep_state_after_commit()  # the route answers with the instructions as written
    with unit_of_work() as uow:
        incident = lock_incident(incident_id)
        if incident.state not in IN_HAND:
            raise Conflict("incident_not_open", f"The incident is {incident.state}; it takes no instructions.")
        wanted = [dict(item) for item in instructions]
        unit_ids = [item["unit_id"] for item in wanted]
        if len(set(unit_ids)) != len(unit_ids):
            raise Unprocessable("unit_named_twice", "One instruction per unit.",
                                errors={"instructions": ["A unit is named twice."]})
        units = {unit.id: unit for unit in db.session.execute(
            select(Unit).where(Unit.id.in_(unit_ids)).options(lazyload(Unit.responsibilities))).scalars()}
        for index, unit_id in enumerate(unit_ids):
            unit = units.get(unit_id)
            if unit is None or not unit.is_active or unit.kind == UnitKind.SUPERVISOR:
                raise Unprocessable("unit_not_instructable", "No such active unit that takes instructions.",
                                    errors={"instructions": {str(index): {"unit_id": ["Not an instructable unit."]}}})
        if incident.route in ("police", "police_first"):
            police = _police_unit()
            if incident.route == "police" and set(unit_ids) - {police.id}:
                raise Unprocessable("police_route_police_only", "Route `police` instructs the police unit only.",
                                    errors={"instructions": ["Only the police unit on route police."]})
            if police.id not in units:
                units[police.id] = police
                already = db.session.execute(select(Instruction.id).where(
                    Instruction.incident_id == incident.id, Instruction.unit_id == police.id,
                    Instruction.state.not_in([s.value for s in INACTIVE_STATES]))).first()
                if already is None:
                    wanted.insert(0, {"unit_id": police.id, "role": "assist", "note": "先期处置 (police first response)"})
        now = utcnow()
        is_first = db.session.execute(select(Instruction.id).where(Instruction.incident_id == incident.id)
                                      .limit(1)).first() is None
        created = []
        for index, item in enumerate(wanted):
            check_unit_free(incident.id, item["unit_id"])
            if item.get("reissue_of_id") is not None:
                _check_returned(incident.id, item["reissue_of_id"], index)
            created.append(_new_instruction(uow, incident, units[item["unit_id"]], role=item.get("role", "lead"),
                                            note=item.get("note", ""), actor=actor, now=now,
                                            needs_site_visit=needs_site_visit,
                                            reissue_of_id=item.get("reissue_of_id")))
        if incident.severity == Severity.MAJOR and is_first:
            _notify_leaders(incident, uow)
        # New work on a resolved incident (a returned job given to another unit) opens it again.
        db.session.flush()
        reminders.announce(uow, incident=incident, instructions=created)  # 通知: the units are told
        follow_instructions(incident, actor=actor, instruction=created[-1])
    return created
