"""A transition that satisfies a clock cancels its timers in the same transaction: no reminder after
acknowledging. Extensions move the resolve clock's timers, redo restarts it, re-issue restarts all."""
from __future__ import annotations

from datetime import datetime, timedelta

from app.blueprints.reminders.jobs import fire_timer
from tests.test_instruction_support import act
from tests.reminders_support import (District, district, inbox_of, issue_one, make_due, make_incident,  # noqa: F401
                                     put_on_duty, sweep, timers)


def _states(sql, instruction_id):
    return {(r.clock, r.step): r.state for r in timers(sql, instruction_id)}


def test_no_reminder_after_acknowledging(app, client, district: District, sql):
    d = district
    put_on_duty(app, d.tenant, d.responder)
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    yellow = make_due(sql, instruction_id, "acknowledge", "yellow", in_seconds=0.3)
    act(client, d, instruction_id, "acknowledge", d.liaison)
    states = _states(sql, instruction_id)
    assert {step: states[("acknowledge", step)] for step in ("warning", "yellow", "red")} == dict.fromkeys(
        ("warning", "yellow", "red"), "cancelled")
    assert all(state == "pending" for (clock, _), state in states.items() if clock != "acknowledge")

    # The job RQ scheduled for the yellow step still runs at its time, and the sweep runs: nothing fires.
    with app.app_context():
        assert fire_timer(d.tenant.id, yellow, 1) == "stale"
    sql("UPDATE timers SET due_at = now() - interval '1 second' WHERE clock = 'acknowledge'")
    assert sweep(app, d.tenant.id)["fired"] == 0
    for user in (d.liaison, d.responder, d.unit_leader, d.office):
        assert inbox_of(sql, user.id) == []
    instruction = client.get(d.url("instructions", instruction_id), headers=d.h(d.desk)).get_json()
    assert instruction["supervision_level"] == "none"


def test_arrive_resolve_return_and_cancel_stop_their_clocks(app, client, district: District, sql):
    d = district
    first = issue_one(client, d, make_incident(app, d.tenant))["id"]
    act(client, d, first, "acknowledge", d.liaison)
    act(client, d, first, "arrive", d.liaison)
    assert {c for (c, _), s in _states(sql, first).items() if s == "pending"} == {"resolve"}
    act(client, d, first, "resolve", d.liaison, result_code="10", text="已处置")
    assert set(_states(sql, first).values()) == {"cancelled"}

    second = issue_one(client, d, make_incident(app, d.tenant))["id"]
    act(client, d, second, "return", d.liaison, reason="非本单位职责")
    assert set(_states(sql, second).values()) == {"cancelled"}

    incident_id = make_incident(app, d.tenant)
    third = issue_one(client, d, incident_id)["id"]
    response = client.post(d.url("incidents", incident_id, "cancel"), json={"reason": "误报"}, headers=d.h(d.desk))
    assert response.status_code == 200, response.get_json()
    assert set(_states(sql, third).values()) == {"cancelled"}
    assert {r.cancel_reason for r in timers(sql, third)} == {"instruction.cancel"}


def test_an_approved_extension_moves_the_resolve_timers(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    act(client, d, instruction_id, "acknowledge", d.liaison)
    before = {r.step: r for r in timers(sql, instruction_id) if r.clock == "resolve"}
    old_deadline = sql("SELECT resolve_by FROM instructions WHERE id = :i", i=instruction_id)[0][0]
    new_deadline = old_deadline + timedelta(hours=6)
    act(client, d, instruction_id, "request-extension", d.liaison, reason="管线需更换", resolve_by=new_deadline.isoformat())
    act(client, d, instruction_id, "approve-extension", d.desk)
    after = {r.step: r for r in timers(sql, instruction_id) if r.clock == "resolve"}
    for step, row in after.items():
        assert row.state == "pending" and row.token == before[step].token + 1
        assert row.due_at - before[step].due_at == timedelta(hours=6)
    # The job scheduled for the old time is stale now.
    with app.app_context():
        assert fire_timer(d.tenant.id, after["yellow"].id, before["yellow"].token) == "stale"


def test_redo_restarts_the_resolve_clock_and_reissue_restarts_all(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    act(client, d, instruction_id, "acknowledge", d.liaison)
    act(client, d, instruction_id, "arrive", d.liaison)
    act(client, d, instruction_id, "resolve", d.liaison, result_code="10", text="已处置")
    act(client, d, instruction_id, "review", d.desk, outcome="sent_back", note="未修好")
    resolve_by = sql("SELECT resolve_by FROM instructions WHERE id = :i", i=instruction_id)[0][0]
    fresh = [r for r in timers(sql, instruction_id) if r.state == "pending"]
    assert {(r.clock, r.step) for r in fresh} == {("resolve", "warning"), ("resolve", "yellow"), ("resolve", "red")}
    assert resolve_by > datetime.now(resolve_by.tzinfo) + timedelta(hours=23)  # a fresh 24 h from the redo

    other = issue_one(client, d, make_incident(app, d.tenant))["id"]
    make_due(sql, other, "acknowledge", "yellow")
    sweep(app, d.tenant.id)
    act(client, d, other, "return", d.liaison, reason="非本单位职责")
    act(client, d, other, "reissue", d.desk, note="属你单位职责")
    pending = [r for r in timers(sql, other) if r.state == "pending"]
    assert {r.clock for r in pending} == {"acknowledge", "arrive", "resolve"} and len(pending) == 9
    reissued = client.get(d.url("instructions", other), headers=d.h(d.desk)).get_json()
    assert reissued["supervision_level"] == "none"


def test_a_dissatisfied_callback_restarts_the_resolve_clock(app, client, district: District, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    instruction_id = issue_one(client, d, incident_id)["id"]
    act(client, d, instruction_id, "acknowledge", d.liaison)
    act(client, d, instruction_id, "arrive", d.liaison)
    act(client, d, instruction_id, "resolve", d.liaison, result_code="10", text="已处置")
    assert not [r for r in timers(sql, instruction_id) if r.state == "pending"]
    response = client.post(d.url("incidents", incident_id, "callback"), headers=d.h(d.desk),
                           json={"satisfaction": "dissatisfied", "note": "漏水未修好"})
    assert response.status_code == 200, response.get_json()
    pending = [r for r in timers(sql, instruction_id) if r.state == "pending"]
    assert {(r.clock, r.step) for r in pending} == {("resolve", "warning"), ("resolve", "yellow"), ("resolve", "red")}
