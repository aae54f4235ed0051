"""End to end through the API, as the desk and two units live it (接警 → 通知 → 处置 → 反馈 → 审核 → 回访 → 办结):
a gas leak is recorded, the suggester proposes 燃气泄漏, the desk classifies it (police first response),
the police and the gas company are instructed in one go, both acknowledge, arrive with position and photo
references, resolve; the incident resolves by itself; the desk reviews both results, calls the citizen
back and closes; the timeline shows every step in order."""
from __future__ import annotations

import uuid

from tests.test_incident_support import call
from tests.test_instruction_support import act, district  # noqa: F401  (fixture)


def _ok(response, status: int = 200) -> dict | list:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_gas_leak_from_call_to_closed_with_every_step_on_the_timeline(client, district, sql):
    d = district
    # 接警: recorded with suggestions; 燃气泄漏 is among the first three.
    intake = _ok(client.post(d.url("incidents") + "?suggest=true", headers=d.h(d.desk),
                             json=call(description="我家楼道里一股煤气味，呛得很，怕是漏气了")), 201)
    incident = intake["incident"]
    gas_leak = next(s for s in intake["suggestions"]["suggestions"][:3] if s["category"]["name"] == "燃气泄漏")
    assert (gas_leak["route"], gas_leak["lead_unit"]["short_name"]) == ("police_first", "天然气")
    # The desk confirms the category and its route and severity.
    incident = _ok(client.patch(d.url("incidents", incident["id"]), headers=d.h(d.desk),
                                json={"category_id": gas_leak["category"]["id"], "route": "police_first",
                                      "severity": "urgent"}))
    assert (incident["route"], incident["state"]) == ("police_first", "open")

    # 通知: instructing the gas company brings the police in (first response) in the same transaction.
    issued = _ok(client.post(d.issue_url(incident["id"]), headers=d.h(d.desk),
                             json={"instructions": [{"unit_id": d.gas_unit_id, "role": "lead",
                                                     "note": "燃气泄漏，速派抢险"}]}), 201)
    by_unit = {row["unit_id"]: row for row in issued}
    assert set(by_unit) == {d.gas_unit_id, d.police_unit_id}
    gas, police = by_unit[d.gas_unit_id], by_unit[d.police_unit_id]
    assert (gas["role"], police["role"]) == ("lead", "assist")
    assert all(row["state"] == "issued" and row["acknowledge_by"] and row["resolve_by"] for row in issued)

    # 处置: both units acknowledge, arrive with position and photos, and resolve.
    photos = {unit: [str(uuid.uuid4())] for unit in ("police", "gas")}
    for instruction, liaison, unit in ((police, d.police_liaison, "police"), (gas, d.gas_liaison, "gas")):
        act(client, d, instruction["id"], "acknowledge", liaison, responder_ids=[liaison.id],
             client_time="2026-11-29T09:02:00+08:00")
        arrived = act(client, d, instruction["id"], "arrive", liaison, text="已到场，现场警戒疏散",
                       client_time="2026-11-29T09:09:00+08:00", media_ids=photos[unit],
                       position={"latitude": 37.9281, "longitude": 102.6412, "accuracy_m": 12})
        assert arrived["state"] == "on_scene"
    assert _ok(client.get(d.url("incidents", incident["id"]), headers=d.h(d.desk)))["state"] == "open"
    act(client, d, police["id"], "resolve", d.police_liaison, result_code="10", text="警戒疏散完毕，交燃气公司抢修")
    assert _ok(client.get(d.url("incidents", incident["id"]), headers=d.h(d.desk)))["state"] == "open"
    act(client, d, gas["id"], "resolve", d.gas_liaison, result_code="10", text="关阀更换接头，检测无泄漏",
         media_ids=[str(uuid.uuid4())])
    # 反馈 complete: the last resolution resolves the incident.
    assert _ok(client.get(d.url("incidents", incident["id"]), headers=d.h(d.desk)))["state"] == "resolved"
    feedback = _ok(client.get(d.url("instructions", gas["id"], "feedback"), headers=d.h(d.desk)))
    assert [(f["kind"], f["media_ids"]) for f in feedback][0] == ("arrival", photos["gas"])
    assert feedback[0]["latitude"] == 37.9281 and feedback[0]["accuracy_m"] == 12

    # 审核, 回访, 办结.
    for instruction in (police, gas):
        assert act(client, d, instruction["id"], "review", d.desk, outcome="accepted")["reviewed_at"]
    _ok(client.post(d.url("incidents", incident["id"], "callback"), headers=d.h(d.desk),
                    json={"satisfaction": "satisfied", "note": "群众满意"}))
    closed = _ok(client.post(d.url("incidents", incident["id"], "close"), headers=d.h(d.desk), json={}))
    assert closed["state"] == "closed" and closed["closed_at"]

    timeline = _ok(client.get(d.url("incidents", incident["id"], "timeline"), headers=d.h(d.desk)))
    steps = [(event["kind"], {police["id"]: "police", gas["id"]: "gas"}.get(event["instruction_id"]))
             for event in timeline["events"]]
    assert steps == [
        ("incident.received", None),
        ("instruction.issued", "police"), ("instruction.issued", "gas"),
        ("instruction.acknowledge", "police"), ("instruction.arrive", "police"),
        ("instruction.acknowledge", "gas"), ("instruction.arrive", "gas"),
        ("instruction.resolve", "police"), ("instruction.resolve", "gas"),
        ("incident.work_done", None),
        ("instruction.accept", "police"), ("instruction.accept", "gas"),
        ("incident.callback", None), ("incident.close", None),
    ]
    assert all(event["actor_name"] and event["at"] for event in timeline["events"])
    arrive = next(e for e in timeline["events"] if e["kind"] == "instruction.arrive" and e["instruction_id"] == gas["id"])
    assert arrive["client_at"].startswith("2026-11-29T01:09:00") and arrive["data"]["media_ids"] == photos["gas"]
    # The audit chain holds the same story for the incident.
    actions = [row[0] for row in sql("SELECT action FROM audit_events WHERE target_type = 'incident' "
                                     "AND target_id = :i ORDER BY seq", i=str(incident["id"]))]
    assert actions == ["incident.received", "incident.updated", "incident.work_done", "incident.callback",
                       "incident.close"]
