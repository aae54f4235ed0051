"""The clocks' timers inside the instruction's own transaction: written at issue, cancelled when a
transition satisfies a clock, moved by an approved extension, restarted by redo and re-issue.

Every function here runs in the caller's transaction (the issue or the transition), so a rolled-back
transition leaves the timers as they were. RQ jobs are scheduled only after commit (`uow.after_commit`);
if Redis is down then, the sweep fires the timers anyway (docs/reminders.md).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.blueprints.instructions.machine import State, Transition
from app.blueprints.reminders.models import MANUAL_CLOCK, MANUAL_STEP, FiredBy, Timer, TimerState
from app.blueprints.timelimits.deadlines import ScheduledStep
from app.blueprints.timelimits.policy import Clock
from app.common.models import utcnow
from app.extensions import db

log = logging.getLogger(__name__)

# Which clocks a transition satisfies (or makes pointless): their pending timers are cancelled.
SATISFIES: dict[Transition, tuple[Clock, ...]] = {
    Transition.ACKNOWLEDGE: (Clock.ACKNOWLEDGE,),
    Transition.ARRIVE: (Clock.ACKNOWLEDGE, Clock.ARRIVE),
    # Resolving ends the work: a no-visit job resolves without arriving, so the arrive clock goes too.
    Transition.RESOLVE: (Clock.ACKNOWLEDGE, Clock.ARRIVE, Clock.RESOLVE),
    Transition.RETURN: tuple(Clock),
    Transition.CANCEL: tuple(Clock),
}


def _deadline(instruction, clock: str) -> datetime | None:
    return {Clock.ACKNOWLEDGE: instruction.acknowledge_by, Clock.ARRIVE: instruction.arrive_by,
            Clock.RESOLVE: instruction.resolve_by}[Clock(clock)]


def _schedule_after_commit(uow, timers: list[Timer]) -> None:
    if not timers:
        return
    from app.blueprints.reminders import jobs

    db.session.flush()
    uow.after_commit(jobs.enqueue_timers, [(t.tenant_id, t.id, t.token, t.due_at) for t in timers])


def schedule(uow, instruction, escalations: list[ScheduledStep], *, clocks: tuple[Clock, ...] | None = None,
             now: datetime | None = None) -> list[Timer]:
    """One pending timer per scheduled step (of `clocks`, default all), in the current transaction."""
    now = now or utcnow()
    timers = []
    for step in escalations:
        if clocks is not None and step.clock not in clocks:
            continue
        deadline = _deadline(instruction, step.clock)
        if deadline is None or step.due_at <= now:
            continue
        timer = Timer(tenant_id=instruction.tenant_id, instruction_id=instruction.id,
                      incident_id=instruction.incident_id, unit_id=instruction.unit_id, clock=step.clock.value,
                      step=step.step.value, offset_seconds=int((step.due_at - deadline).total_seconds()),
                      recipients=[r.value for r in step.recipients], due_at=step.due_at,
                      state=TimerState.PENDING.value, token=1, attempts=0, created_at=now, outcome={})
        db.session.add(timer)
        timers.append(timer)
    _schedule_after_commit(uow, timers)
    return timers


def cancel(instruction, clocks: tuple[Clock, ...], *, reason: str) -> int:
    """One UPDATE: the pending timers of these clocks stop. Jobs already in Redis find them cancelled."""
    if not clocks:
        return 0
    result = db.session.execute(
        update(Timer).where(Timer.tenant_id == instruction.tenant_id, Timer.instruction_id == instruction.id,
                            Timer.state == TimerState.PENDING.value, Timer.clock.in_([c.value for c in clocks]))
        .values(state=TimerState.CANCELLED.value, cancelled_at=utcnow(), cancel_reason=reason[:64])
        .execution_options(synchronize_session=False))
    return result.rowcount


def move(uow, instruction, clock: Clock) -> list[Timer]:
    """The clock's deadline moved (an approved extension): its pending timers follow, with a new token,
    so the jobs scheduled for the old time are stale."""
    deadline = _deadline(instruction, clock)
    timers = list(db.session.execute(select(Timer).where(
        Timer.tenant_id == instruction.tenant_id, Timer.instruction_id == instruction.id,
        Timer.clock == clock.value, Timer.state == TimerState.PENDING.value).with_for_update()).scalars())
    for timer in timers:
        timer.due_at = deadline + timedelta(seconds=timer.offset_seconds)
        timer.token += 1
    _schedule_after_commit(uow, timers)
    return timers


def restart(uow, instruction, clocks: tuple[Clock, ...], *, reason: str, now: datetime | None = None
            ) -> list[Timer]:
    """Fresh clocks from now (redo: the resolve clock; re-issue: all): the old timers are cancelled,
    the deadlines recomputed under the current policy, and new timers written."""
    from app.blueprints.incidents.models import Incident
    from app.blueprints.instructions.issuing import clocks_for
    from app.blueprints.units.models import Unit

    now = now or utcnow()
    cancel(instruction, clocks, reason=reason)
    incident = db.session.get(Incident, (instruction.tenant_id, instruction.incident_id))
    unit = db.session.get(Unit, (instruction.tenant_id, instruction.unit_id))
    plan = clocks_for(incident, unit, now, instruction.needs_site_visit)
    if Clock.ACKNOWLEDGE in clocks:
        instruction.acknowledge_by = plan.deadlines.acknowledge_by
    if Clock.ARRIVE in clocks:
        instruction.arrive_by = plan.deadlines.arrive_by
    if Clock.RESOLVE in clocks:
        instruction.resolve_by = plan.deadlines.resolve_by
    return schedule(uow, instruction, plan.escalations, clocks=clocks, now=now)


def after_transition(uow, instruction, transition: Transition) -> None:
    """The clocks' side of one applied instruction transition, in its transaction (the one hook of
    `instructions.service._transition` and the desk's cancel and redo paths)."""
    transition = Transition(transition)
    if transition in SATISFIES:
        cancel(instruction, SATISFIES[transition], reason=f"instruction.{transition}")
    elif transition == Transition.APPROVE_EXTENSION:
        move(uow, instruction, Clock.RESOLVE)
    elif transition == Transition.REOPEN:
        # 重办: the unit gets a fresh resolve limit from now; the redo is supervised like the first time.
        restart(uow, instruction, (Clock.RESOLVE,), reason="instruction.reopen")
    elif transition == Transition.REISSUE and State(instruction.state) == State.ISSUED:
        # 重新下达: fresh clocks from now; the return interrupted the old ones, so the level starts again.
        instruction.supervision_level = "none"
        restart(uow, instruction, tuple(Clock), reason="instruction.reissue")
        from app.blueprints.incidents.models import Incident

        announce(uow, incident=db.session.get(Incident, (instruction.tenant_id, instruction.incident_id)),
                 instructions=[instruction])


def urged(uow, *, incident, instruction, actor, note: str, users: list, cause: str) -> Timer:
    """The desk's 催办 through the reminders' path: SMS to the same people and the unit's webhook and
    mailbox (the caller keeps its own inbox notice), recorded as a fired timer for the assessment."""
    from app.blueprints.notifications import jobs as notification_jobs
    from app.blueprints.notifications import service as notifications
    from app.blueprints.notifications import templates
    from app.blueprints.reminders.firing import _Batch, context_for
    from app.tenants.models import Tenant

    batch = _Batch(db.session.get(Tenant, instruction.tenant_id))
    ctx = context_for(batch, incident, instruction)
    title, body = templates.manual_urge(ctx, note=note, state=instruction.state)
    sent = notifications.send(tenant_id=instruction.tenant_id, users=users, kind="instruction.urged",
                              cause=cause, title=title, body=body, unit_id=instruction.unit_id, to_unit=True,
                              inbox=False, data={"incident_id": incident.id, "instruction_id": instruction.id,
                                                 "number": incident.number, "link": ctx.link, "note": note})
    if sent.has_external:
        uow.after_commit(notification_jobs.kick, instruction.tenant_id)
    return record_urge(instruction=instruction, actor=actor, note=note,
                       outcome={"notifications": {"inbox": len(users), **sent.counts}})


def announce(uow, *, incident, instructions: list) -> None:
    """The 通知 of new (or re-issued) instructions: the unit's liaisons and the people on duty now get an
    in-app message and an SMS, and the unit's webhook and mailbox a copy, in the issuing transaction;
    the SMS and the rest go out after commit (a lost job: the outbox sweep)."""
    from app.blueprints.notifications import jobs as notification_jobs
    from app.blueprints.notifications import service as notifications
    from app.blueprints.notifications import templates
    from app.blueprints.reminders.firing import _Batch, context_for
    from app.blueprints.timelimits.policy import Recipient
    from app.tenants.models import Tenant

    if not instructions:
        return
    batch = _Batch(db.session.get(Tenant, incident.tenant_id))
    rows = []
    for instruction in instructions:
        users = [*batch.people(Recipient.LIAISON, instruction.unit_id), *batch.people(Recipient.ON_DUTY,
                                                                                     instruction.unit_id)]
        ctx = context_for(batch, incident, instruction)
        title, body = templates.new_instruction(ctx, role=instruction.role, note=instruction.note or "",
                                                acknowledge_by=instruction.acknowledge_by,
                                                arrive_by=instruction.arrive_by)
        rows += notifications.compose(
            tenant_id=incident.tenant_id, users=users, kind="instruction.issued",
            cause=f"instruction:{instruction.id}:{instruction.version}", title=title, body=body,
            unit_id=instruction.unit_id, to_unit=True, endpoints=batch.endpoints(instruction.unit_id),
            data={"incident_id": incident.id, "instruction_id": instruction.id, "number": incident.number,
                  "link": ctx.link, "role": instruction.role})
    if notifications.write(rows).has_external:
        uow.after_commit(notification_jobs.kick, incident.tenant_id)


def record_urge(*, instruction, actor, note: str, outcome: dict, now: datetime | None = None) -> Timer:
    """A manual 催办, recorded as a fired timer so the assessment counts it with the automatic ones."""
    now = now or utcnow()
    timer = Timer(tenant_id=instruction.tenant_id, instruction_id=instruction.id,
                  incident_id=instruction.incident_id, unit_id=instruction.unit_id, clock=MANUAL_CLOCK,
                  step=MANUAL_STEP, offset_seconds=0, recipients=["liaison", "on_duty"], due_at=now,
                  state=TimerState.FIRED.value, token=1, attempts=1, created_at=now, fired_at=now,
                  fired_by=FiredBy.DESK.value, outcome={"actor_user_id": getattr(actor, "id", None),
                                                        "note": note[:500], **outcome})
    db.session.add(timer)
    return timer


def timers_of(*, instruction_id: int, actor) -> list[Timer]:
    """What the actor may see of the instruction (same rules as reading it), its timers in due order."""
    from app.blueprints.instructions.service import get_instruction

    get_instruction(instruction_id=instruction_id, actor=actor)
    return list(db.session.execute(select(Timer).where(Timer.instruction_id == instruction_id)
                                   .order_by(Timer.due_at, Timer.id)).scalars())
