"""The instruction state machine on its own: every allowed transition, forbidden ones per role,
versions and stamps. Pure: no database, no app."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from app.blueprints.instructions.machine import (ALLOWED_ROLES, TRANSITIONS, State, Transition, apply)
from app.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable

UNIT = 7
DATA = {Transition.RETURN: {"reason": "不属本单位职责"}, Transition.RESOLVE: {"result_code": "10"},
        Transition.REQUEST_EXTENSION: {"reason": "管道材料需外地调运"},
        Transition.REFUSE_EXTENSION: {"note": "可先临时处置"}}
# What the service reads from other rows for the guards: a pending extension request.
FACTS = {Transition.APPROVE_EXTENSION: {"pending_extension_id": 9},
         Transition.REFUSE_EXTENSION: {"pending_extension_id": 9}}


@dataclass
class FakeInstruction:
    state: str
    unit_id: int = UNIT
    version: int = 1
    needs_site_visit: bool = False
    responder_user_ids: list = field(default_factory=list)
    reviewed_at: object = None
    reviewed_by_user_id: int | None = None


@dataclass
class Actor:
    id: int
    roles: list
    unit_id: int | None = None


LIAISON = Actor(1, ["unit_liaison"], UNIT)
LEADER = Actor(2, ["unit_leader"], UNIT)
RESPONDER = Actor(3, ["responder"], UNIT)
OTHER_LIAISON = Actor(4, ["unit_liaison"], UNIT + 1)
DISPATCHER = Actor(5, ["dispatcher"])
OFFICE = Actor(6, ["tenant_admin"])
CITY_LEADER = Actor(8, ["leader"])


def actor_for(transition: Transition) -> Actor:
    return LIAISON if "unit_liaison" in ALLOWED_ROLES[transition] else DISPATCHER


def run(instruction, transition, actor=None, **kwargs):
    steps = []
    kwargs.setdefault("data", DATA.get(transition))
    kwargs.setdefault("facts", FACTS.get(transition))
    apply(instruction, transition, actor=actor or actor_for(transition), journal=lambda _i, s: steps.append(s),
          **kwargs)
    return steps


@pytest.mark.parametrize(("state", "transition"), list(TRANSITIONS), ids=lambda v: str(v))
def test_every_allowed_transition_moves_stamps_and_journals(state, transition):
    instruction = FakeInstruction(state=state.value, version=3)
    steps = run(instruction, transition, expected_version=3)
    assert instruction.state == TRANSITIONS[(state, transition)]
    assert instruction.version == 4
    assert [(s.from_state, s.to_state, s.transition, s.version) for s in steps] == [
        (state, TRANSITIONS[(state, transition)], transition, 4)]


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("transition", list(Transition))
def test_every_move_outside_the_table_is_409_and_changes_nothing(state, transition):
    if (state, transition) in TRANSITIONS:
        return
    instruction = FakeInstruction(state=state.value)
    with pytest.raises(Conflict) as caught:
        run(instruction, transition)
    assert caught.value.code == "illegal_transition"
    assert str(state) in caught.value.message and str(transition) in caught.value.message
    assert (instruction.state, instruction.version) == (state.value, 1)


@pytest.mark.parametrize("transition", [t for t, roles in ALLOWED_ROLES.items() if "unit_liaison" in roles])
@pytest.mark.parametrize("actor", [DISPATCHER, OFFICE, CITY_LEADER], ids=["dispatcher", "office", "leader"])
def test_desk_office_and_leaders_may_not_apply_unit_transitions(transition, actor):
    instruction = FakeInstruction(state=State.ISSUED.value)
    with pytest.raises(Forbidden):
        run(instruction, transition, actor=actor)
    assert instruction.version == 1


@pytest.mark.parametrize("transition", [Transition.CANCEL, Transition.REOPEN, Transition.REISSUE, Transition.ACCEPT,
                                        Transition.APPROVE_EXTENSION, Transition.REFUSE_EXTENSION])
@pytest.mark.parametrize("actor", [LIAISON, LEADER, RESPONDER, CITY_LEADER], ids=["liaison", "unit_leader",
                                                                                  "responder", "leader"])
def test_unit_users_and_leaders_may_not_apply_desk_transitions(transition, actor):
    with pytest.raises(Forbidden) as caught:
        run(FakeInstruction(state=State.RESOLVED.value), transition, actor=actor)
    assert caught.value.code == "role_not_allowed"


def test_another_units_liaison_is_refused_before_the_state_is_revealed():
    with pytest.raises(Forbidden) as caught:
        run(FakeInstruction(state=State.RESOLVED.value), Transition.ACKNOWLEDGE, actor=OTHER_LIAISON)
    assert caught.value.code == "not_your_unit"


def test_responder_acts_only_on_instructions_that_name_them():
    instruction = FakeInstruction(state=State.ACKNOWLEDGED.value)
    with pytest.raises(Forbidden) as caught:
        run(instruction, Transition.SET_OUT, actor=RESPONDER)
    assert caught.value.code == "not_assigned_to_you"
    instruction.responder_user_ids = [RESPONDER.id]
    run(instruction, Transition.SET_OUT, actor=RESPONDER)
    assert instruction.state == State.EN_ROUTE


def test_responder_on_duty_may_acknowledge_but_not_resolve_an_unnamed_instruction():
    instruction = FakeInstruction(state=State.ISSUED.value)
    with pytest.raises(Forbidden):
        run(instruction, Transition.ACKNOWLEDGE, actor=RESPONDER)
    run(instruction, Transition.ACKNOWLEDGE, actor=RESPONDER, actor_is_on_duty=True)
    with pytest.raises(Forbidden):
        run(instruction, Transition.RESOLVE, actor=RESPONDER, actor_is_on_duty=True)


def test_stale_version_is_412_and_changes_nothing():
    instruction = FakeInstruction(state=State.ISSUED.value, version=5)
    with pytest.raises(PreconditionFailed) as caught:
        run(instruction, Transition.ACKNOWLEDGE, expected_version=4)
    assert caught.value.code == "version_mismatch"
    assert (instruction.state, instruction.version) == ("issued", 5)


def test_return_requires_a_reason():
    instruction = FakeInstruction(state=State.ISSUED.value)
    with pytest.raises(Unprocessable) as caught:
        run(instruction, Transition.RETURN, data={"reason": "   "})
    assert "reason" in caught.value.errors
    assert instruction.state == "issued"


def test_resolve_straight_from_acknowledged_only_without_a_site_visit():
    instruction = FakeInstruction(state=State.ACKNOWLEDGED.value, needs_site_visit=True)
    with pytest.raises(Conflict) as caught:
        run(instruction, Transition.RESOLVE)
    assert caught.value.code == "site_visit_required"
    instruction.needs_site_visit = False
    run(instruction, Transition.RESOLVE)
    assert instruction.state == State.RESOLVED


def test_each_state_carries_its_time_and_actor():
    instruction = FakeInstruction(state=State.ISSUED.value, needs_site_visit=True)
    for transition in (Transition.ACKNOWLEDGE, Transition.SET_OUT, Transition.ARRIVE, Transition.RESOLVE):
        run(instruction, transition, actor=LEADER)
    for stamp in ("acknowledged", "en_route", "arrived", "resolved"):
        assert getattr(instruction, f"{stamp}_by_user_id") == LEADER.id
        assert getattr(instruction, f"{stamp}_at").tzinfo is not None
    assert instruction.acknowledged_at <= instruction.en_route_at <= instruction.arrived_at <= instruction.resolved_at
    run(instruction, Transition.REOPEN, actor=DISPATCHER)
    assert (instruction.state, instruction.reopened_by_user_id) == ("acknowledged", DISPATCHER.id)


def test_accept_stamps_the_review_once_and_a_redo_needs_a_fresh_review():
    instruction = FakeInstruction(state=State.RESOLVED.value)
    run(instruction, Transition.ACCEPT)
    assert (instruction.state, instruction.reviewed_by_user_id) == (State.RESOLVED, DISPATCHER.id)
    assert instruction.reviewed_at is not None
    with pytest.raises(Conflict) as caught:
        run(instruction, Transition.ACCEPT)
    assert caught.value.code == "already_reviewed"
    run(instruction, Transition.REOPEN)
    assert (instruction.state, instruction.reviewed_at, instruction.reviewed_by_user_id) == (
        State.ACKNOWLEDGED, None, None)


def test_one_extension_request_pending_at_a_time_and_a_decision_needs_one():
    instruction = FakeInstruction(state=State.ON_SCENE.value)
    with pytest.raises(Conflict) as caught:
        run(instruction, Transition.REQUEST_EXTENSION, data={"reason": "再要两天"}, facts={"pending_extension_id": 4})
    assert caught.value.code == "extension_pending"
    for transition in (Transition.APPROVE_EXTENSION, Transition.REFUSE_EXTENSION):
        with pytest.raises(Conflict) as caught:
            run(instruction, transition, data={"note": "不行"}, facts={"pending_extension_id": None})
        assert caught.value.code == "no_pending_extension"
    assert instruction.version == 1


@pytest.mark.parametrize(("transition", "data", "field_name"), [
    (Transition.REQUEST_EXTENSION, {"reason": "  "}, "reason"),
    (Transition.REFUSE_EXTENSION, {}, "note"),
])
def test_an_extension_request_needs_a_reason_and_a_refusal_a_note(transition, data, field_name):
    instruction = FakeInstruction(state=State.ACKNOWLEDGED.value)
    with pytest.raises(Unprocessable) as caught:
        run(instruction, transition, data=data)
    assert field_name in caught.value.errors
    assert instruction.version == 1


def test_a_unit_cannot_ask_for_more_time_before_acknowledging_or_after_resolving():
    for state in (State.ISSUED, State.RESOLVED):
        with pytest.raises(Conflict) as caught:
            run(FakeInstruction(state=state.value), Transition.REQUEST_EXTENSION)
        assert caught.value.code == "illegal_transition"
