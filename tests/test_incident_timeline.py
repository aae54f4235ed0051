"""The incident timeline: every step in order with actor and times; who may read it; caller masking
for a unit holding an active instruction against one whose instruction was returned."""
from __future__ import annotations

from tests.test_incident_support import call
from tests.test_instruction_support import District, act, district, issue_one  # noqa: F401  (fixture)


def _intake(client, d: District) -> dict:
    response = client.post(d.url("incidents"), json=call(), headers=d.h(d.desk))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["incident"]


def _timeline(client, d: District, incident_id: int, user):
    return client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(user))


def test_timeline_lists_every_step_in_order_with_actor_and_times(client, district):
    d = district
    incident = _intake(client, d)
    instruction = issue_one(client, d, incident["id"])
    act(client, d, instruction["id"], "acknowledge", d.liaison, responder_ids=[d.responder.id],
          client_time="2026-11-29T09:00:00+08:00")
    act(client, d, instruction["id"], "set-out", d.responder)
    act(client, d, instruction["id"], "arrive", d.responder, text="已到场",
          position={"latitude": 37.928, "longitude": 102.641, "accuracy_m": 15})
    act(client, d, instruction["id"], "resolve", d.responder, result_code="10", text="已处置")

    response = _timeline(client, d, incident["id"], d.desk)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    kinds = [event["kind"] for event in body["events"]]
    assert kinds == ["incident.received", "instruction.issued", "instruction.acknowledge", "instruction.set_out",
                     "instruction.arrive", "instruction.resolve", "incident.work_done"]
    assert body["incident"]["state"] == "resolved"
    actors = [event["actor_user_id"] for event in body["events"]]
    assert actors == [d.desk.id, d.desk.id, d.liaison.id, d.responder.id, d.responder.id, d.responder.id,
                      d.responder.id]
    done = body["events"][-1]
    assert (done["from_state"], done["to_state"], done["data"]["caused_by_instruction_id"]) == (
        "open", "resolved", instruction["id"])
    assert all(event["actor_name"] for event in body["events"])
    ack = body["events"][2]
    assert ack["from_state"] == "issued" and ack["to_state"] == "acknowledged"
    assert ack["client_at"].startswith("2026-11-29T01:00:00")
    times = [event["at"] for event in body["events"][1:]]
    assert times == sorted(times)


def test_desk_office_and_leader_read_the_timeline_a_unit_without_instruction_does_not(client, district):
    d = district
    incident = _intake(client, d)
    issue_one(client, d, incident["id"])  # to 建设
    for user in (d.desk, d.office, d.city_leader, d.liaison, d.unit_leader):
        assert _timeline(client, d, incident["id"], user).status_code == 200, user.username
    refused = _timeline(client, d, incident["id"], d.gas_liaison)
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "not_your_incident"
    assert _timeline(client, d, 987654321, d.desk).status_code == 404


def test_caller_unmasked_for_the_unit_holding_an_active_instruction_masked_once_it_returned(client, district):
    d = district
    incident = _intake(client, d)
    held = issue_one(client, d, incident["id"])                      # 建设: stays active
    returned = issue_one(client, d, incident["id"], unit_id=d.gas_unit_id)  # 天然气: returns it

    def caller_seen_by(user) -> dict:
        response = _timeline(client, d, incident["id"], user)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["incident"]

    seen = caller_seen_by(d.liaison)
    assert (seen["caller_phone"], seen["is_caller_masked"]) == ("13812345678", False)
    gas = caller_seen_by(d.gas_liaison)
    assert gas["is_caller_masked"] is False  # active until it returns
    act(client, d, returned["id"], "return", d.gas_liaison, reason="不属本单位职责")
    gas = caller_seen_by(d.gas_liaison)
    assert (gas["caller_phone"], gas["caller_name"], gas["is_caller_masked"]) == ("138****5678", "张*", True)
    leader = caller_seen_by(d.city_leader)
    assert leader["is_caller_masked"] is True
    assert caller_seen_by(d.desk)["caller_phone"] == "13812345678"
    # Cancelled: the instructed unit loses sight of the caller too.
    act(client, d, held["id"], "cancel", d.desk, reason="误报")
    assert caller_seen_by(d.liaison)["is_caller_masked"] is True
