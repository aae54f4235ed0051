"""Extension requests (延期申请) through the API: the unit asks for a later resolve deadline, the desk approves
(moving `resolve_by`) or refuses with a note; one request pending at a time, at most 30 days, and a pending
request lapses when the instruction ends. Every refusal changes nothing in the database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.factories import assert_error
from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401  (fixture)


def _get(client, d: District, instruction_id: int) -> dict:
    return client.get(d.url("instructions", instruction_id), headers=d.h(d.desk)).get_json()


def _extensions(client, d: District, instruction_id: int, user=None) -> list[dict]:
    response = client.get(d.url("instructions", instruction_id, "extensions"), headers=d.h(user or d.desk))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _acknowledged(app, client, d: District, **issue) -> tuple[int, dict]:
    """An incident with one acknowledged instruction to 建设: (incident id, instruction)."""
    incident_id = make_incident(app, d.tenant)
    instruction = issue_one(client, d, incident_id, **issue)
    return incident_id, act(client, d, instruction["id"], "acknowledge", d.liaison)


def _request(client, d: District, instruction: dict, later: timedelta, status: int = 200, user=None) -> dict:
    wanted = _at(instruction["resolve_by"]) + later
    return act(client, d, instruction["id"], "request-extension", user or d.liaison, status,
                 reason="需更换主管道，等待材料", resolve_by=wanted.isoformat())



def test_a_request_is_pending_and_listed_with_both_deadlines(app, client, district, sql):
    d = district
    _, instruction = _acknowledged(app, client, d)
    current = _at(instruction["resolve_by"])

    out = _request(client, d, instruction, timedelta(days=2))

    assert (out["state"], out["version"]) == ("acknowledged", instruction["version"] + 1)
    assert _at(out["resolve_by"]) == current  # nothing moves until the desk decides
    for reader in (d.desk, d.liaison, d.city_leader):
        [row] = _extensions(client, d, instruction["id"], reader)
        assert (row["state"], row["reason"], row["requested_by_user_id"]) == ("pending", "需更换主管道，等待材料",
                                                                              d.liaison.id)
        assert _at(row["previous_resolve_by"]) == current
        assert _at(row["requested_resolve_by"]) == current + timedelta(days=2)
        assert (row["decided_at"], row["decided_by_user_id"], row["granted_resolve_by"]) == (None, None, None)
    stored = sql("SELECT state, previous_resolve_by, requested_resolve_by, requested_by_user_id "
                 "FROM instruction_extensions WHERE instruction_id = :i", i=instruction["id"])
    assert [tuple(r) for r in stored] == [("pending", current, current + timedelta(days=2), d.liaison.id)]
    assert sql("SELECT resolve_by FROM instructions WHERE id = :i", i=instruction["id"])[0][0] == current


def test_a_second_request_while_one_is_pending_is_409_and_changes_nothing(app, client, district, same_database):
    d = district
    _, instruction = _acknowledged(app, client, d)
    _request(client, d, instruction, timedelta(days=2))
    unchanged = same_database()

    body = client.post(d.action_url(instruction["id"], "request-extension"), headers=d.h(d.liaison),
                       json={"reason": "再延一次", "resolve_by": (_at(instruction["resolve_by"]) +
                                                             timedelta(days=5)).isoformat()})

    assert_error(body, 409, "extension_pending")
    unchanged()


def test_approval_moves_resolve_by_to_the_requested_time(app, client, district, sql):
    d = district
    incident_id, instruction = _acknowledged(app, client, d)
    wanted = _at(instruction["resolve_by"]) + timedelta(days=3)
    _request(client, d, instruction, timedelta(days=3))

    out = act(client, d, instruction["id"], "approve-extension", d.desk, note="同意")

    assert _at(out["resolve_by"]) == wanted and out["state"] == "acknowledged"
    assert _at(_get(client, d, instruction["id"])["resolve_by"]) == wanted
    [row] = _extensions(client, d, instruction["id"])
    assert (row["state"], row["decided_by_user_id"], row["decision_note"]) == ("approved", d.desk.id, "同意")
    assert _at(row["granted_resolve_by"]) == wanted and row["decided_at"]
    assert sql("SELECT resolve_by FROM instructions WHERE id = :i", i=instruction["id"])[0][0] == wanted
    # Decided: nothing is pending any more, so a second decision is refused and a new request is taken.
    assert_error(client.post(d.action_url(instruction["id"], "approve-extension"), json={}, headers=d.h(d.desk)),
                 409, "no_pending_extension")
    _request(client, d, out, timedelta(days=1))
    assert [r["state"] for r in _extensions(client, d, instruction["id"])] == ["approved", "pending"]

    # The timeline and the audit chain carry both steps, by their actors, the state kept.
    events = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()["events"]
    steps = [(e["kind"], e["from_state"], e["to_state"], e["actor_user_id"]) for e in events
             if e["kind"].endswith("_extension")]
    assert steps == [("instruction.request_extension", "acknowledged", "acknowledged", d.liaison.id),
                     ("instruction.approve_extension", "acknowledged", "acknowledged", d.desk.id),
                     ("instruction.request_extension", "acknowledged", "acknowledged", d.liaison.id)]
    first = next(e for e in events if e["kind"] == "instruction.request_extension")
    assert first["data"]["reason"] == "需更换主管道，等待材料" and _at(first["data"]["resolve_by"]) == wanted
    # What the guards read from other rows (the pending request) is not part of the record.
    assert not any("pending_extension_id" in e["data"] for e in events)
    actions = [tuple(r) for r in sql("SELECT action, actor_user_id FROM audit_events WHERE target_type = "
                                     "'instruction' AND target_id = :i ORDER BY seq", i=str(instruction["id"]))]
    assert actions == [("instruction.issued", d.desk.id), ("instruction.acknowledge", d.liaison.id),
                       ("instruction.request_extension", d.liaison.id), ("instruction.approve_extension", d.desk.id),
                       ("instruction.request_extension", d.liaison.id)]


def test_the_desk_may_grant_another_deadline_than_the_one_asked_for(app, client, district, sql, same_database):
    d = district
    _, instruction = _acknowledged(app, client, d)
    current = _at(instruction["resolve_by"])
    _request(client, d, instruction, timedelta(days=3))
    unchanged = same_database()
    # Granting no more time than there is now is refused like such a request.
    assert_error(client.post(d.action_url(instruction["id"], "approve-extension"), headers=d.h(d.desk),
                             json={"resolve_by": current.isoformat()}), 422, "extension_not_later")
    unchanged()

    out = act(client, d, instruction["id"], "approve-extension", d.desk,
                resolve_by=(current + timedelta(days=1)).isoformat(), note="先给一天")

    assert _at(out["resolve_by"]) == current + timedelta(days=1)
    [row] = _extensions(client, d, instruction["id"])
    assert _at(row["granted_resolve_by"]) == current + timedelta(days=1)
    assert _at(row["requested_resolve_by"]) == current + timedelta(days=3)
    assert tuple(sql("SELECT state, granted_resolve_by FROM instruction_extensions")[0]) == ("approved",
                                                                                       current + timedelta(days=1))


def test_refusal_needs_a_note_and_keeps_the_deadline(app, client, district, sql, same_database):
    d = district
    incident_id, instruction = _acknowledged(app, client, d)
    current = _at(instruction["resolve_by"])
    _request(client, d, instruction, timedelta(days=2))
    unchanged = same_database()
    for body in ({}, {"note": ""}, {"note": "   "}):
        assert_error(client.post(d.action_url(instruction["id"], "refuse-extension"), json=body,
                                 headers=d.h(d.desk)), 422)
        unchanged()

    out = act(client, d, instruction["id"], "refuse-extension", d.desk, note="材料当天可到，不予延期")

    assert _at(out["resolve_by"]) == current
    [row] = _extensions(client, d, instruction["id"])
    assert (row["state"], row["decision_note"], row["decided_by_user_id"], row["granted_resolve_by"]) == (
        "refused", "材料当天可到，不予延期", d.desk.id, None)
    assert sql("SELECT resolve_by FROM instructions WHERE id = :i", i=instruction["id"])[0][0] == current
    kinds = [r[0] for r in sql("SELECT kind FROM timeline_events WHERE incident_id = :i ORDER BY id", i=incident_id)]
    assert kinds[-2:] == ["instruction.request_extension", "instruction.refuse_extension"]
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'instruction.refuse_extension' "
               "AND target_id = :i", i=str(instruction["id"]))[0][0] == 1


@pytest.mark.parametrize("action, body", [("approve-extension", {}), ("refuse-extension", {"note": "不予延期"})])
def test_a_decision_without_a_pending_request_is_409(app, client, district, same_database, action, body):
    d = district
    _, instruction = _acknowledged(app, client, d)
    unchanged = same_database()

    assert_error(client.post(d.action_url(instruction["id"], action), json=body, headers=d.h(d.desk)),
                 409, "no_pending_extension")
    unchanged()


@pytest.mark.parametrize("later, error", [
    (timedelta(0), "extension_not_later"),
    (-timedelta(hours=1), "extension_not_later"),
    (timedelta(days=30, seconds=1), "extension_too_long"),
    (timedelta(days=45), "extension_too_long"),
])
def test_a_request_not_later_or_beyond_30_days_is_422_and_stores_nothing(app, client, district, sql, same_database,
                                                                          later, error):
    d = district
    _, instruction = _acknowledged(app, client, d)
    unchanged = same_database()

    assert_error(client.post(d.action_url(instruction["id"], "request-extension"), headers=d.h(d.liaison), json={
        "reason": "需要更多时间", "resolve_by": (_at(instruction["resolve_by"]) + later).isoformat()}), 422, error)

    unchanged()
    assert sql("SELECT count(*) FROM instruction_extensions")[0][0] == 0


def test_exactly_30_days_more_is_taken(app, client, district):
    d = district
    _, instruction = _acknowledged(app, client, d)

    _request(client, d, instruction, timedelta(days=30))

    [row] = _extensions(client, d, instruction["id"])
    assert _at(row["requested_resolve_by"]) - _at(row["previous_resolve_by"]) == timedelta(days=30)


def test_a_request_needs_a_reason(app, client, district, same_database):
    d = district
    _, instruction = _acknowledged(app, client, d)
    later = (_at(instruction["resolve_by"]) + timedelta(days=1)).isoformat()
    unchanged = same_database()
    for body in ({"resolve_by": later}, {"resolve_by": later, "reason": "  "}, {"reason": "需要更多时间"}):
        assert_error(client.post(d.action_url(instruction["id"], "request-extension"), json=body,
                                 headers=d.h(d.liaison)), 422)
    unchanged()


def test_units_ask_and_the_desk_decides_nobody_else(app, client, district, same_database):
    d = district
    _, instruction = _acknowledged(app, client, d)
    later = (_at(instruction["resolve_by"]) + timedelta(days=1)).isoformat()
    unchanged = same_database()
    # The desk, the office and leaders do not ask; another unit does not ask for 建设's job.
    for user in (d.desk, d.office, d.city_leader, d.gas_liaison):
        assert_error(client.post(d.action_url(instruction["id"], "request-extension"), headers=d.h(user),
                                 json={"reason": "需要更多时间", "resolve_by": later}), 403)
    unchanged()

    _request(client, d, instruction, timedelta(days=1))
    unchanged = same_database()
    for user in (d.liaison, d.unit_leader, d.responder, d.gas_liaison, d.city_leader):
        for action, body in (("approve-extension", {}), ("refuse-extension", {"note": "不予延期"})):
            assert_error(client.post(d.action_url(instruction["id"], action), json=body, headers=d.h(user)),
                         403, "forbidden")
    unchanged()
    assert [r["state"] for r in _extensions(client, d, instruction["id"])] == ["pending"]


def test_a_request_before_acknowledging_is_409(app, client, district, sql, same_database):
    d = district
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    unchanged = same_database()

    _request(client, d, instruction, timedelta(days=1), status=409)

    unchanged()
    assert sql("SELECT count(*) FROM instruction_extensions")[0][0] == 0


@pytest.mark.parametrize("ending", ["resolve", "return", "cancel"])
def test_a_pending_request_lapses_when_the_instruction_ends(app, client, district, sql, ending):
    d = district
    _, instruction = _acknowledged(app, client, d, needs_site_visit=False)
    current = _at(instruction["resolve_by"])
    _request(client, d, instruction, timedelta(days=2))

    if ending == "resolve":
        act(client, d, instruction["id"], "resolve", d.liaison, result_code="10", text="已处置")
    elif ending == "return":
        act(client, d, instruction["id"], "return", d.liaison, reason="不属本单位职责")
    else:
        act(client, d, instruction["id"], "cancel", d.desk, reason="误报")

    [row] = _extensions(client, d, instruction["id"])
    assert (row["state"], row["decided_by_user_id"], row["granted_resolve_by"]) == ("lapsed", None, None)
    assert row["decided_at"]
    assert sql("SELECT state FROM instruction_extensions WHERE instruction_id = :i",
               i=instruction["id"])[0][0] == "lapsed"
    assert _at(_get(client, d, instruction["id"])["resolve_by"]) == current
    # Nobody decides it now: the ended instruction takes no decision.
    assert_error(client.post(d.action_url(instruction["id"], "approve-extension"), json={}, headers=d.h(d.desk)),
                 409, "illegal_transition")


def test_a_request_is_taken_on_the_way_and_on_scene(app, client, district):
    d = district
    _, instruction = _acknowledged(app, client, d)
    act(client, d, instruction["id"], "set-out", d.liaison)
    _request(client, d, instruction, timedelta(days=1))
    act(client, d, instruction["id"], "refuse-extension", d.desk, note="不予延期")
    act(client, d, instruction["id"], "arrive", d.liaison, text="到场")
    out = _request(client, d, instruction, timedelta(days=2))
    assert out["state"] == "on_scene"
    assert [r["state"] for r in _extensions(client, d, instruction["id"])] == ["refused", "pending"]
