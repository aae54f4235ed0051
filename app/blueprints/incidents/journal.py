"""Where an incident step is written down: the audit chain and the timeline, in the caller's transaction."""
from __future__ import annotations

from app.blueprints.incidents.machine import Step
from app.blueprints.instructions.journal import journal_step


def record_step(incident, step: Step) -> None:
    journal_step(step, domain="incident", tenant_id=incident.tenant_id, target_id=incident.id,
                 incident_id=incident.id, instruction_id=step.data.get("instruction_id"))
