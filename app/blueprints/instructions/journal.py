"""Where an applied transition is written down: the tenant's audit chain and the incident timeline,
both in the caller's transaction, so a rolled-back transition leaves no trace in either."""
from __future__ import annotations

import json
from decimal import Decimal

from app.blueprints.audit import service as audit
from app.blueprints.instructions.machine import Step  # the instruction machine's; incidents' has the same fields
from app.blueprints.instructions.models import TimelineEvent
from app.extensions import db


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _jsonable(data: dict) -> dict:
    """The step's data as JSON values: times in ISO form, decimals as numbers, uuids as text."""
    return json.loads(json.dumps(data, default=_plain, ensure_ascii=False))


def record_step(instruction, step: Step) -> None:
    journal_step(step, domain="instruction", tenant_id=instruction.tenant_id, target_id=instruction.id,
                 incident_id=instruction.incident_id, instruction_id=instruction.id)


def journal_step(step, *, domain: str, tenant_id: int, target_id: int, incident_id: int,
                 instruction_id: int | None) -> None:
    """Write one applied step of any machine (instruction or incident) to both records."""
    data = _jsonable(step.data)
    audit.record(f"{domain}.{step.transition}", tenant_id=tenant_id, actor=_actor(step),
                 target_type=domain, target_id=target_id,
                 before={"state": str(step.from_state), "version": step.version - 1},
                 after={"state": str(step.to_state), "version": step.version, **data})
    add_event(tenant_id, incident_id=incident_id, instruction_id=instruction_id,
              kind=f"{domain}.{step.transition}", from_state=str(step.from_state), to_state=str(step.to_state),
              actor_user_id=step.actor_id, at=step.at, client_at=getattr(step, "client_at", None), data=data)


def add_event(tenant_id: int, **fields) -> TimelineEvent:
    event = TimelineEvent(tenant_id=tenant_id, **fields)
    db.session.add(event)
    return event


class _ActorRef:
    def __init__(self, user_id, username):
        self.id = user_id
        self.username = username


def _actor(step: Step):
    return _ActorRef(step.actor_id, step.actor_username) if step.actor_id is not None else None
