"""Where an incident step is written down: the audit chain and the timeline, in the caller's transaction."""
from __future__ import annotations

from app.blueprints.audit import service as audit
from app.blueprints.incidents.machine import Step
from app.blueprints.instructions.journal import _ActorRef, _jsonable, add_event


def record_step(incident, step: Step) -> None:
    data = _jsonable(step.data)
    actor = _ActorRef(step.actor_id, step.actor_username) if step.actor_id is not None else None
    audit.record(f"incident.{step.transition}", tenant_id=incident.tenant_id, actor=actor,
                 target_type="incident", target_id=incident.id,
                 before={"state": str(step.from_state), "version": step.version - 1},
                 after={"state": str(step.to_state), "version": step.version, **data})
    add_event(incident.tenant_id, incident_id=incident.id, instruction_id=data.get("instruction_id"),
              kind=f"incident.{step.transition}", from_state=str(step.from_state), to_state=str(step.to_state),
              actor_user_id=step.actor_id, at=step.at, client_at=None, data=data)
