"""The desk board (指挥调度看板): the incidents still in hand with their instructions, states and clocks.

One page of incidents costs three queries: the page's ids with their total (`count(*) OVER ()`), those
incidents, and their instructions with units, responders and whether an extension is pending. The filters on
instructions (unit, state, overdue) are one subquery, so they hold for the same instruction: "overdue at
the water company" means the water company's instruction is late.

"Overdue first" needs to know, for every incident in hand, whether any clock has run out. That set is
read once per page from the live instructions' own small index (`ix_instructions_live`, which carries the
clocks) and hashed, not probed per incident: at two thousand incidents in hand the page query went from
7.9 to 2.5 ms (bench/incidents/RESULTS.md, round 4).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, select

from app.blueprints.incidents.models import Incident, IncidentState
from app.blueprints.incidents.presentation import incident_out
from app.blueprints.instructions.machine import LIVE_STATES, State
from app.blueprints.instructions.models import Extension, ExtensionState, Instruction, with_responder_ids
from app.blueprints.units.models import Unit
from app.common import read_cache
from app.common.listing import COUNT_LIMIT, paginate
from app.common.models import utcnow
from app.extensions import db

IN_HAND = (IncidentState.OPEN.value, IncidentState.RESOLVED.value)
_NOT_ACKNOWLEDGED = (State.ISSUED.value,)
_NOT_ARRIVED = (State.ISSUED.value, State.ACKNOWLEDGED.value, State.EN_ROUTE.value)
_NOT_RESOLVED = (*_NOT_ARRIVED, State.ON_SCENE.value)
_SEVERITY_RANK = {"major": 0, "urgent": 1, "general": 2}


_LIVE = tuple(sorted(state.value for state in LIVE_STATES))
assert set(_NOT_RESOLVED) == set(_LIVE), "overdue_clause relies on resolve_by running in every live state"


def overdue_clause(now: datetime):
    """An instruction with a clock run out: not acknowledged, not arrived (if a visit is due), not resolved.

    Written as "live, and its earliest running clock is past" rather than an OR of the three clocks, so
    PostgreSQL answers it from `ix_instructions_live` alone (an OR became three bitmap scans and heap
    visits). LEAST skips the NULLs of the clocks not running; resolve_by runs in every live state and is
    never NULL."""
    earliest_running_clock = func.least(
        Instruction.resolve_by,
        case((Instruction.state.in_(_NOT_ACKNOWLEDGED), Instruction.acknowledge_by)),
        case((and_(Instruction.state.in_(_NOT_ARRIVED), Instruction.needs_site_visit.is_(True)),
              Instruction.arrive_by)),
    )
    return and_(Instruction.state.in_(_LIVE), earliest_running_clock < now)


def late_incident_ids(now: datetime):
    """The incidents with at least one run-out clock, as a subquery (one scan of the live instructions)."""
    return select(Instruction.incident_id).where(overdue_clause(now))


def next_clock(now: datetime):
    """When the next running clock of a live instruction runs out, turning an `overdue` flag on (as a scalar
    subquery; NULL: no clock is running). Until then a board answered now stays true without a write. A clock
    due exactly now counts: `overdue_clocks` calls it late only once it is past."""
    return select(func.least(
        func.min(Instruction.resolve_by).filter(Instruction.resolve_by >= now),
        func.min(Instruction.acknowledge_by).filter(Instruction.state.in_(_NOT_ACKNOWLEDGED),
                                                    Instruction.acknowledge_by >= now),
        func.min(Instruction.arrive_by).filter(Instruction.state.in_(_NOT_ARRIVED),
                                               Instruction.needs_site_visit.is_(True), Instruction.arrive_by >= now),
    )).where(Instruction.state.in_(_LIVE)).scalar_subquery()


def overdue_clocks(instruction: Instruction, now: datetime) -> list[str]:
    """The same test as `overdue_clause`, for one loaded instruction: which clocks have run out."""
    late = []
    if instruction.state in _NOT_ACKNOWLEDGED and instruction.acknowledge_by < now:
        late.append("acknowledge")
    if (instruction.state in _NOT_ARRIVED and instruction.needs_site_visit and instruction.arrive_by is not None
            and instruction.arrive_by < now):
        late.append("arrive")
    if instruction.state in _NOT_RESOLVED and instruction.resolve_by < now:
        late.append("resolve")
    return late


@dataclass
class Filters:
    state: list[str] | None = None
    severity: list[str] | None = None
    unit_id: int | None = None
    instruction_state: list[str] | None = None
    overdue: bool | None = None


def _instruction_conditions(filters: Filters, now: datetime) -> list:
    conditions = []
    if filters.unit_id is not None:
        conditions.append(Instruction.unit_id == filters.unit_id)
    if filters.instruction_state:
        conditions.append(Instruction.state.in_(filters.instruction_state))
    if filters.overdue:
        conditions.append(overdue_clause(now))
    return conditions


def board(*, actor, pagination, now: datetime | None = None, **filters) -> list[dict]:
    """Incidents in hand (open or resolved, unless `state` says otherwise): overdue first, then by severity,
    newest first; each with its instructions, their clocks and which of them have run out."""
    now = now or utcnow()
    filters = Filters(**filters)
    # Materialised: read once, hashed for both the filter and the order.
    late = late_incident_ids(now).cte("late_incidents").prefix_with("MATERIALIZED")
    is_overdue = Incident.id.in_(select(late.c.incident_id))
    # The page is chosen on ids alone: the window count and the sort carry narrow rows, not whole incidents
    # (7.0 -> 2.8 ms at 2,300 in hand); the ten incidents are then read by key.
    statement = select(Incident.id).where(Incident.state.in_(filters.state or IN_HAND))
    if filters.severity:
        statement = statement.where(Incident.severity.in_(filters.severity))
    conditions = _instruction_conditions(filters, now)
    if filters.overdue is False:
        if conditions:  # "that unit's instruction is on time", not "nothing on the incident is late"
            conditions.append(~overdue_clause(now))
        else:
            statement = statement.where(~is_overdue)
    if conditions:  # one instruction meets them all; as IN, the planner may hash the (live) set or probe
        statement = statement.where(Incident.id.in_(select(Instruction.incident_id).where(*conditions)))
    severity_rank = case(_SEVERITY_RANK, value=Incident.severity, else_=3)
    statement = statement.order_by(case((is_overdue, 0), else_=1), severity_rank, Incident.received_at.desc())
    # The order (overdue first) makes PostgreSQL evaluate every incident in hand anyway: the first page
    # carries its total instead of a second pass for the count.
    ids = paginate(statement, pagination, tiebreak=Incident.id.desc(), count_limit=COUNT_LIMIT,
                   total_in_page=True)
    return _with_instructions(_incidents(ids, now), actor, now)


def _incidents(ids: list[int], now: datetime) -> list[Incident]:
    """The page's incidents by key, in page order. For the read cache, the next clock to run out comes along
    in the same statement (an empty page asks for it alone: a clock running out may fill it)."""
    keep = read_cache.building()
    if not ids:
        if keep:
            read_cache.holds_until(db.session.execute(select(next_clock(now))).scalar())
        return []
    statement = select(Incident).where(Incident.id.in_(ids))
    rows = db.session.execute(statement.add_columns(next_clock(now)) if keep else statement).all()
    if keep and rows:
        read_cache.holds_until(rows[0][1])
    by_id = {row[0].id: row[0] for row in rows}
    return [by_id[incident_id] for incident_id in ids]


def _with_instructions(incidents: list[Incident], actor, now: datetime) -> list[dict]:
    if not incidents:
        return []
    has_pending = exists().where(Extension.instruction_id == Instruction.id,
                                 Extension.state == ExtensionState.PENDING.value)
    rows = list(db.session.execute(select(Instruction, Unit.name, Unit.short_name, has_pending)
                                   .options(*with_responder_ids())
                                   .join(Unit, Unit.id == Instruction.unit_id)
                                   .where(Instruction.incident_id.in_([i.id for i in incidents]))
                                   .order_by(Instruction.id)).all())
    by_incident: dict[int, list[dict]] = {}
    for instruction, unit_name, unit_short_name, pending in rows:
        by_incident.setdefault(instruction.incident_id, []).append({
            "instruction": instruction, "unit_name": unit_name, "unit_short_name": unit_short_name,
            "overdue": overdue_clocks(instruction, now), "has_pending_extension": bool(pending)})
    out = []
    for incident in incidents:
        instructions = by_incident.get(incident.id, [])
        out.append({"incident": incident_out(incident, actor), "instructions": instructions,
                    "is_overdue": any(item["overdue"] for item in instructions)})
    return out
