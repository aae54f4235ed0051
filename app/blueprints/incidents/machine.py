"""The incident state machine (design.md section 5): the desk's and office's moves on an incident.

One table, one `apply` that checks role, state and version, moves the incident, bumps its version
and hands a `Step` to the journal (audit chain + timeline). Pure: no database.

What people do to the incident as a whole, and what its instructions do to it:
- work_done / work_reopened are automatic: the step of an instruction that resolves the last live
  instruction (or brings one back to life) moves the incident, as a step of its own by the same actor
  (`instructions.service` calls `follow_instructions`);
- merge (并案): a duplicate incident joins another; its live instructions are cancelled with it;
- urge (催办) keeps the state: it is a recorded, versioned step like any other;
- callback (回访) satisfied or basically satisfied keeps it resolved; dissatisfied is `redo` (重办),
  which reopens it (the service reopens the lead instruction in the same transaction);
- close needs every resolved instruction reviewed (guard `review_required`) and a satisfied callback
  (guard `callback_required`); the service passes the review facts in `data`;
- cancel as a false report (误报) only while open; the service cancels the live instructions.
Checks run actor first (403), then the table (409 `illegal_transition`), guards (409 with their
code), then the version (412 `version_mismatch`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable

from app.blueprints.incidents.models import IncidentState, Satisfaction
from app.common.roles import Role
from app.errors import Conflict, Forbidden, PreconditionFailed


class Transition(enum.StrEnum):
    URGE = "urge"          # 催办
    CALLBACK = "callback"  # 回访 (satisfied, basically satisfied)
    REDO = "redo"          # 回访不满意, 重办
    CLOSE = "close"        # 办结
    CANCEL = "cancel"      # 误报撤销
    MERGE = "merge"        # 并案
    WORK_DONE = "work_done"            # 指令全部处置完毕 (automatic)
    WORK_REOPENED = "work_reopened"    # 指令重新办理 (automatic)


S, T = IncidentState, Transition

TRANSITIONS: dict[tuple[IncidentState, Transition], IncidentState] = {
    (S.OPEN,     T.URGE):     S.OPEN,
    (S.OPEN,     T.CANCEL):   S.CANCELLED,
    (S.OPEN,     T.MERGE):    S.MERGED,
    (S.OPEN,     T.WORK_DONE): S.RESOLVED,
    (S.RESOLVED, T.WORK_REOPENED): S.OPEN,
    (S.RESOLVED, T.CALLBACK): S.RESOLVED,
    (S.RESOLVED, T.REDO):     S.OPEN,
    (S.RESOLVED, T.CLOSE):    S.CLOSED,
}

DESK_ROLES = frozenset({Role.DISPATCHER, Role.TENANT_ADMIN})

# The automatic moves follow an instruction step, whoever took it (a unit user resolving, the desk reissuing).
AUTOMATIC = frozenset({Transition.WORK_DONE, Transition.WORK_REOPENED})

ALLOWED_ROLES: dict[Transition, frozenset[Role]] = {
    transition: frozenset(Role) if transition in AUTOMATIC else DESK_ROLES for transition in Transition}

# The timestamp column a transition stamps on the incident.
STAMPS: dict[Transition, str] = {
    T.CALLBACK: "callback_at",
    T.REDO: "callback_at",
    T.CLOSE: "closed_at",
    T.CANCEL: "cancelled_at",
    T.MERGE: "merged_at",
    T.WORK_DONE: "resolved_at",
}

# The time columns a transition wipes: an incident back at work is no longer resolved.
CLEARS: dict[Transition, tuple[str, ...]] = {
    T.REDO: ("resolved_at",),
    T.WORK_REOPENED: ("resolved_at",),
}


def _reviewed_and_called_back(incident, data: dict) -> str | None:
    if data.get("unreviewed_instruction_ids"):
        return "review_required"
    if incident.satisfaction not in (Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED):
        return "callback_required"
    return None


GUARDS: dict[tuple[IncidentState, Transition], Callable[[Any, dict], str | None]] = {
    (S.RESOLVED, T.CLOSE): _reviewed_and_called_back,
}


@dataclass(frozen=True)
class Step:
    transition: Transition
    from_state: IncidentState
    to_state: IncidentState
    actor_id: int | None
    actor_username: str | None
    at: datetime
    version: int
    data: dict = field(default_factory=dict)


def check(incident, transition: Transition, *, actor, expected_version: int | None = None,
          data: dict | None = None) -> IncidentState:
    """Every check of `apply` without changing anything; returns the state it would lead to."""
    transition = Transition(transition)
    if not {Role(role) for role in actor.roles} & ALLOWED_ROLES[transition]:
        raise Forbidden("role_not_allowed", f"Your role may not {transition} an incident.")
    current = IncidentState(incident.state)
    target = TRANSITIONS.get((current, transition))
    if target is None:
        raise Conflict("illegal_transition", f"An incident in state {current} cannot {transition}.",
                       errors={"state": [str(current)], "transition": [str(transition)]})
    guard = GUARDS.get((current, transition))
    if guard is not None and (code := guard(incident, data or {})):
        raise Conflict(code, f"An incident in state {current} cannot {transition}: {code}.")
    if expected_version is not None and expected_version != incident.version:
        raise PreconditionFailed("version_mismatch",
                                 f"The incident is at version {incident.version}, not {expected_version}; "
                                 "reload and retry.")
    return target


def apply(incident, transition: Transition, *, actor, expected_version: int | None = None, data: dict | None = None,
          now: datetime | None = None, journal: Callable[[Any, Step], None] | None = None) -> Step:
    """Apply one transition: check, move, stamp, bump the version, journal it (audit + timeline)."""
    transition = Transition(transition)
    target = check(incident, transition, actor=actor, expected_version=expected_version, data=data)
    now = now or datetime.now(UTC)
    from_state = IncidentState(incident.state)
    incident.state = target.value
    if (stamp := STAMPS.get(transition)) is not None:
        setattr(incident, stamp, now)
    for cleared in CLEARS.get(transition, ()):
        setattr(incident, cleared, None)
    incident.version += 1
    step = Step(transition=transition, from_state=from_state, to_state=target, actor_id=actor.id,
                actor_username=getattr(actor, "username", None), at=now, version=incident.version,
                data=dict(data or {}))
    if journal is None:
        from app.blueprints.incidents.journal import record_step as journal
    journal(incident, step)
    return step
