"""The incident timeline (时间线): who may read it, and every recorded step in order with actor and times.

Readers: the desk, the office, leaders and the provincial supervisor; a unit user only while their
unit holds an instruction on the incident (in any state: a unit that returned the job may still see
what it was asked), and then only the incident's own steps and their unit's instructions' steps:
another unit's feedback, notes and urges are that unit's business. The caller stays masked unless
`presentation.may_see_caller` says otherwise.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from app.blueprints.incidents.models import Incident
from app.blueprints.incidents.service import get_incident
from app.blueprints.instructions.models import Instruction, TimelineEvent
from app.blueprints.users.models import User
from app.common.roles import Role
from app.errors import Forbidden
from app.extensions import db

_READS_EVERY_INCIDENT = (Role.DISPATCHER, Role.TENANT_ADMIN, Role.LEADER, Role.PROVINCIAL_SUPERVISOR)


def _own_unit_instruction_ids(incident: Incident, actor) -> set[int] | None:
    """None for readers of every incident; else the ids of the instructions the actor's unit holds on it."""
    if actor.has_role(*_READS_EVERY_INCIDENT):
        return None
    if actor.unit_id is None:
        return set()
    return set(db.session.execute(select(Instruction.id).where(
        Instruction.incident_id == incident.id, Instruction.unit_id == actor.unit_id)).scalars())


def check_may_read(incident: Incident, actor) -> None:
    """The desk, office, leaders and supervisors read every incident; a unit user one their unit was instructed on."""
    if _own_unit_instruction_ids(incident, actor) == set():
        raise Forbidden("not_your_incident", "Your unit holds no instruction on this incident.")


def events_of(incident: Incident, actor=None) -> list[dict]:
    """The intake first (from the incident row), then every journalled step in the order it was written;
    for a unit user, only the incident's own steps and those of their unit's instructions."""
    statement = select(TimelineEvent).where(TimelineEvent.incident_id == incident.id)
    own = _own_unit_instruction_ids(incident, actor) if actor is not None else None
    if own is not None:
        statement = statement.where(or_(TimelineEvent.instruction_id.is_(None),
                                        TimelineEvent.instruction_id.in_(own or [0])))
    rows = list(db.session.execute(statement.order_by(TimelineEvent.id)).scalars())
    user_ids = {row.actor_user_id for row in rows if row.actor_user_id} | (
        {incident.created_by_user_id} if incident.created_by_user_id else set())
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    received = {"id": None, "kind": "incident.received", "instruction_id": None, "from_state": None,
                "to_state": "open", "actor_user_id": incident.created_by_user_id,
                "actor_name": names.get(incident.created_by_user_id), "at": incident.created_at,
                "client_at": incident.received_at, "data": {"number": incident.number, "source": incident.source}}
    return [received] + [{"id": row.id, "kind": row.kind, "instruction_id": row.instruction_id,
                          "from_state": row.from_state, "to_state": row.to_state,
                          "actor_user_id": row.actor_user_id, "actor_name": names.get(row.actor_user_id),
                          "at": row.at, "client_at": row.client_at, "data": row.data or {}} for row in rows]


def timeline(*, incident_id: int, actor) -> tuple[Incident, list[dict]]:
    incident = get_incident(incident_id=incident_id)
    check_may_read(incident, actor)
    return incident, events_of(incident, actor)


def read(*, incident_id: int, actor) -> Incident:
    """One incident for anyone who may read it (see `check_may_read`)."""
    incident = get_incident(incident_id=incident_id)
    check_may_read(incident, actor)
    return incident
