"""The instruction state machine (design.md section 5): one table, one function that applies it.

Pure: no database. `apply` checks the actor, the table and the version, then moves the
instruction and hands a `Step` to the journal, which the service wires to the audit
chain and the incident timeline (`journal.record_step`).

Decisions the design left open:
- Reopen (重办, after a failed review or a dissatisfied callback) goes back to `acknowledged`,
  not `issued`: the unit has already accepted the job, so there is nothing to sign for
  again; the redo restarts from set-out/arrive (or straight to resolve without a visit).
- Progress (处置反馈) is a transition that keeps the state, so it is checked, versioned and
  on the timeline like any other.
- Re-issue of a returned instruction to the same unit overrules the return
  (`is_overruled_return`) and puts the same instruction back to `issued`.
- Review (审核) of a resolved instruction is its own step: `accept` keeps it resolved and stamps
  `reviewed_at`; sending it back is `reopen`, which clears the review. The incident closes only
  when every resolved instruction has been accepted (incidents.machine guard `review_required`).
- An extension request (延期申请) and the desk's approval or refusal keep the state: they are
  versioned, journalled steps of the instruction; the request row itself lives in `Extension`.
- Checks run actor first (403), so an outsider learns nothing of the state; then the
  table (409 `illegal_transition`); then the version (412 `version_mismatch`), which is
  optional: a client that sends none accepts whatever state the row lock finds.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable

from app.common.roles import Role
from app.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable


class State(enum.StrEnum):
    ISSUED = "issued"              # 已下达
    ACKNOWLEDGED = "acknowledged"  # 已签收
    EN_ROUTE = "en_route"          # 已出发
    ON_SCENE = "on_scene"          # 已到场
    RESOLVED = "resolved"          # 已处置
    RETURNED = "returned"          # 已退回
    CANCELLED = "cancelled"        # 已撤销


# Work in hand: the unit still owes an answer, and some clock may run out.
LIVE_STATES = frozenset({State.ISSUED, State.ACKNOWLEDGED, State.EN_ROUTE, State.ON_SCENE})


class Transition(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"  # 签收
    RETURN = "return"            # 退回
    SET_OUT = "set_out"          # 出发
    ARRIVE = "arrive"            # 到场反馈
    PROGRESS = "progress"        # 处置反馈
    RESOLVE = "resolve"          # 处置结果
    CANCEL = "cancel"            # 撤销 (desk)
    REOPEN = "reopen"            # 重办 (desk/office)
    REISSUE = "reissue"          # 驳回退回, 重新下达 (desk)
    ACCEPT = "accept"            # 审核通过 (desk)
    REQUEST_EXTENSION = "request_extension"  # 延期申请 (unit)
    APPROVE_EXTENSION = "approve_extension"  # 批准延期 (desk)
    REFUSE_EXTENSION = "refuse_extension"    # 不予延期 (desk)


S, T = State, Transition

TRANSITIONS: dict[tuple[State, Transition], State] = {
    (S.ISSUED,       T.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ISSUED,       T.RETURN):      S.RETURNED,
    (S.ISSUED,       T.CANCEL):      S.CANCELLED,
    (S.ACKNOWLEDGED, T.RETURN):      S.RETURNED,
    (S.ACKNOWLEDGED, T.SET_OUT):     S.EN_ROUTE,
    (S.ACKNOWLEDGED, T.ARRIVE):      S.ON_SCENE,
    (S.ACKNOWLEDGED, T.PROGRESS):    S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, T.RESOLVE):     S.RESOLVED,     # only without a site visit: see GUARDS
    (S.ACKNOWLEDGED, T.CANCEL):      S.CANCELLED,
    (S.EN_ROUTE,     T.ARRIVE):      S.ON_SCENE,
    (S.EN_ROUTE,     T.PROGRESS):    S.EN_ROUTE,
    (S.EN_ROUTE,     T.CANCEL):      S.CANCELLED,
    (S.ON_SCENE,     T.PROGRESS):    S.ON_SCENE,
    (S.ON_SCENE,     T.RESOLVE):     S.RESOLVED,
    (S.ON_SCENE,     T.CANCEL):      S.CANCELLED,
    (S.RESOLVED,     T.REOPEN):      S.ACKNOWLEDGED,
    (S.RESOLVED,     T.ACCEPT):      S.RESOLVED,
    (S.RETURNED,     T.REISSUE):     S.ISSUED,
    # Extensions: asked for and decided while the unit is working; the state stays.
    **{(state, transition): state
       for state in (S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE)
       for transition in (T.REQUEST_EXTENSION, T.APPROVE_EXTENSION, T.REFUSE_EXTENSION)},
}

UNIT_ROLES = frozenset({Role.UNIT_LIAISON, Role.UNIT_LEADER, Role.RESPONDER})
DESK_ROLES = frozenset({Role.DISPATCHER, Role.TENANT_ADMIN})

# Who may apply each transition. Unit roles act only on their own unit's instructions, and a
# responder only on instructions that name them (or, to acknowledge or return one, while on duty).
ALLOWED_ROLES: dict[Transition, frozenset[Role]] = {
    T.ACKNOWLEDGE: UNIT_ROLES,
    T.RETURN:      UNIT_ROLES,
    T.SET_OUT:     UNIT_ROLES,
    T.ARRIVE:      UNIT_ROLES,
    T.PROGRESS:    UNIT_ROLES,
    T.RESOLVE:     UNIT_ROLES,
    T.CANCEL:      DESK_ROLES,
    T.REOPEN:      DESK_ROLES,
    T.REISSUE:     DESK_ROLES,
    T.ACCEPT:      DESK_ROLES,
    T.REQUEST_EXTENSION: UNIT_ROLES,
    T.APPROVE_EXTENSION: DESK_ROLES,
    T.REFUSE_EXTENSION:  DESK_ROLES,
}

# Transitions a responder not (yet) named may apply while on duty for the unit.
ON_DUTY_TRANSITIONS = frozenset({T.ACKNOWLEDGE, T.RETURN})

# The timestamp and actor columns a transition stamps: "every state carries its time and actor".
STAMPS: dict[Transition, str] = {
    T.ACKNOWLEDGE: "acknowledged",
    T.RETURN:      "returned",
    T.SET_OUT:     "en_route",
    T.ARRIVE:      "arrived",
    T.RESOLVE:     "resolved",
    T.CANCEL:      "cancelled",
    T.REOPEN:      "reopened",
    T.REISSUE:     "issued",
    T.ACCEPT:      "reviewed",
}

# The stamps a transition wipes: work sent back for redo needs a fresh review.
CLEARS: dict[Transition, tuple[str, ...]] = {
    T.REOPEN: ("reviewed",),
}


def _needs_no_site_visit(instruction, _data) -> str | None:
    if instruction.needs_site_visit:
        return "site_visit_required"
    return None


# Extra conditions on single cells of the table: a failing guard is a 409 with its own code.
def _not_yet_reviewed(instruction, _data) -> str | None:
    return "already_reviewed" if instruction.reviewed_at is not None else None


# The service tells the machine whether a request is pending (`facts["pending_extension_id"]`).
def _no_extension_pending(_instruction, data) -> str | None:
    return "extension_pending" if data.get("pending_extension_id") else None


def _extension_pending(_instruction, data) -> str | None:
    return None if data.get("pending_extension_id") else "no_pending_extension"


GUARDS: dict[tuple[State, Transition], Callable[[Any, dict], str | None]] = {
    (S.ACKNOWLEDGED, T.RESOLVE): _needs_no_site_visit,
    (S.RESOLVED, T.ACCEPT): _not_yet_reviewed,
    **{(state, T.REQUEST_EXTENSION): _no_extension_pending for state in (S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE)},
    **{(state, transition): _extension_pending for state in (S.ACKNOWLEDGED, S.EN_ROUTE, S.ON_SCENE)
       for transition in (T.APPROVE_EXTENSION, T.REFUSE_EXTENSION)},
}

# Transitions whose data must carry a non-blank field (422 otherwise).
REQUIRED_DATA: dict[Transition, str] = {
    T.RETURN: "reason",
    T.RESOLVE: "result_code",
    T.REQUEST_EXTENSION: "reason",
    T.REFUSE_EXTENSION: "note",
}


@dataclass(frozen=True)
class Step:
    """One applied transition, for the audit chain and the timeline."""

    transition: Transition
    from_state: State
    to_state: State
    actor_id: int | None
    actor_username: str | None
    at: datetime
    client_at: datetime | None
    version: int
    data: dict = field(default_factory=dict)


def _check_actor(instruction, transition: Transition, actor, actor_is_on_duty: bool) -> None:
    roles = {Role(role) for role in actor.roles}
    allowed = roles & ALLOWED_ROLES[transition]
    if not allowed:
        raise Forbidden("role_not_allowed", f"Your role may not {transition} an instruction.")
    if allowed <= UNIT_ROLES:
        if actor.unit_id != instruction.unit_id:
            raise Forbidden("not_your_unit", "This instruction is for another unit.")
        if allowed == {Role.RESPONDER}:
            named = actor.id in set(instruction.responder_user_ids)
            if not named and not (transition in ON_DUTY_TRANSITIONS and actor_is_on_duty):
                raise Forbidden("not_assigned_to_you", "This instruction does not name you as a responder.")


def check(instruction, transition: Transition, *, actor, expected_version: int | None = None,
          data: dict | None = None, actor_is_on_duty: bool = False, facts: dict | None = None) -> State:
    """Every check of `apply` without changing anything; returns the state it would lead to.

    `facts` are what guards need to know from other rows (a pending extension); unlike `data` they
    are not part of the step's record."""
    transition = Transition(transition)
    data = data or {}
    _check_actor(instruction, transition, actor, actor_is_on_duty)
    current = State(instruction.state)
    target = TRANSITIONS.get((current, transition))
    if target is None:
        raise Conflict("illegal_transition", f"An instruction in state {current} cannot {transition}.",
                       errors={"state": [str(current)], "transition": [str(transition)]})
    guard = GUARDS.get((current, transition))
    if guard is not None and (code := guard(instruction, {**data, **(facts or {})})):
        raise Conflict(code, f"An instruction in state {current} cannot {transition}: {code}.")
    if expected_version is not None and expected_version != instruction.version:
        raise PreconditionFailed("version_mismatch",
                                 f"The instruction is at version {instruction.version}, "
                                 f"not {expected_version}; reload and retry.")
    required = REQUIRED_DATA.get(transition)
    if required and not str(data.get(required) or "").strip():
        raise Unprocessable("validation_error", f"{transition} needs a {required}.",
                            errors={required: ["Missing data for required field."]})
    return target


def apply(instruction, transition: Transition, *, actor, expected_version: int | None = None,
          client_time: datetime | None = None, data: dict | None = None, actor_is_on_duty: bool = False,
          facts: dict | None = None, now: datetime | None = None,
          journal: Callable[[Any, Step], None] | None = None) -> Step:
    """Apply one transition: check, move, stamp the time and actor, bump the version, journal it.

    `journal(instruction, step)` records the step; by default the audit event and timeline row
    (in the caller's transaction). Raises 403, 409, 412 or 422 as `check` does, changing nothing.
    """
    transition = Transition(transition)
    data = dict(data or {})
    target = check(instruction, transition, actor=actor, expected_version=expected_version, data=data,
                   actor_is_on_duty=actor_is_on_duty, facts=facts)
    now = now or datetime.now(UTC)
    from_state = State(instruction.state)
    instruction.state = target.value
    stamp = STAMPS.get(transition)
    if stamp is not None:
        setattr(instruction, f"{stamp}_at", now)
        setattr(instruction, f"{stamp}_by_user_id", actor.id)
    for cleared in CLEARS.get(transition, ()):
        setattr(instruction, f"{cleared}_at", None)
        setattr(instruction, f"{cleared}_by_user_id", None)
    instruction.version += 1
    step = Step(transition=transition, from_state=from_state, to_state=target, actor_id=actor.id,
                actor_username=getattr(actor, "username", None), at=now,
                client_at=client_time, version=instruction.version, data=data)
    if journal is None:
        from app.blueprints.instructions.journal import record_step as journal
    journal(instruction, step)
    return step
