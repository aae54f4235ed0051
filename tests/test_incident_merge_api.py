"""Merge (并案) through the API: an open incident recorded twice joins another one. It becomes `merged`, its call
joins the survivor's calls, its live instructions are cancelled, and both timelines say so; a merged incident
takes nothing more. Every refusal changes nothing in the database."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.factories import assert_error, auth
from tests.test_incident_support import call
from tests.test_instruction_support import District, act, district, issue_one  # noqa: F401  (fixture)

DUPLICATE_CALL = {"caller_name": "李四", "caller_phone": "13900001111", "source": "transfer_12345",
                  "description": "对面楼也闻到燃气味，像是同一处泄漏"}


def _intake(client, d: District, **changes) -> dict:
    response = client.post(d.url("incidents"), json=call(**changes), headers=d.h(d.desk))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["incident"]


def _merge(client, d: District, incident_id: int, into: int, user=None, **body):
    return client.post(d.url("incidents", incident_id, "merge"), json={"into_incident_id": into, **body},
                       headers=d.h(user or d.desk))


def _incident(client, d: District, incident_id: int, user=None) -> dict:
    response = client.get(d.url("incidents", incident_id), headers=d.h(user or d.desk))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _events(client, d: District, incident_id: int) -> list[dict]:
    return client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()["events"]



@pytest.fixture
def pair(client, district) -> tuple[dict, dict]:
    """(survivor, duplicate): two open incidents of the same leak, told by two callers."""
    survivor = _intake(client, district)
    duplicate = _intake(client, district, **DUPLICATE_CALL)
    return survivor, duplicate


def test_merge_makes_the_duplicate_merged_and_its_call_one_of_the_survivors(client, district, pair, sql):
    d = district
    survivor, duplicate = pair
    kept = issue_one(client, d, survivor["id"])
    survivor_version = _incident(client, d, survivor["id"])["version"]

    response = _merge(client, d, duplicate["id"], survivor["id"], note="同一处燃气泄漏", version=duplicate["version"])

    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert (out["state"], out["merged_into_id"], out["version"]) == ("merged", survivor["id"],
                                                                     duplicate["version"] + 1)
    assert out["merged_at"] and response.headers["ETag"] == f'"{out["version"]}"'
    stored = sql("SELECT state, merged_into_id, merged_by_user_id, merged_at IS NOT NULL FROM incidents "
                 "WHERE id = :i", i=duplicate["id"])
    assert tuple(stored[0]) == ("merged", survivor["id"], d.desk.id, True)

    detail = _incident(client, d, survivor["id"])
    assert (detail["state"], detail["version"]) == ("open", survivor_version + 1)
    [merged_call] = detail["calls"]
    assert (merged_call["caller_name"], merged_call["caller_phone"], merged_call["is_caller_masked"]) == (
        "李四", "13900001111", False)
    assert (merged_call["source"], merged_call["description"], merged_call["merged_by_user_id"]) == (
        "transfer_12345", DUPLICATE_CALL["description"], d.desk.id)
    assert datetime.fromisoformat(merged_call["received_at"]) == datetime.fromisoformat(duplicate["received_at"])
    # The office sees the caller in full too; a leader sees the call masked.
    assert _incident(client, d, survivor["id"], d.office)["calls"][0]["caller_phone"] == "13900001111"
    masked = _incident(client, d, survivor["id"], d.city_leader)["calls"][0]
    assert (masked["caller_name"], masked["caller_phone"], masked["is_caller_masked"]) == ("李*", "139****1111",
                                                                                           True)
    assert sql("SELECT count(*) FROM incident_calls WHERE incident_id = :i", i=survivor["id"])[0][0] == 1
    # The survivor's own work is untouched.
    assert act(client, d, kept["id"], "acknowledge", d.liaison)["state"] == "acknowledged"


def test_the_duplicates_live_instructions_are_cancelled_and_a_returned_one_stays_returned(client, district, pair,
                                                                                          sql):
    d = district
    survivor, duplicate = pair
    live = issue_one(client, d, duplicate["id"])
    live = act(client, d, live["id"], "acknowledge", d.liaison)
    act(client, d, live["id"], "request-extension", d.liaison, reason="等待材料",
          resolve_by=(datetime.fromisoformat(live["resolve_by"]) + timedelta(days=1)).isoformat())
    issued = issue_one(client, d, duplicate["id"], unit_id=d.police_unit_id)
    returned = issue_one(client, d, duplicate["id"], unit_id=d.gas_unit_id)
    act(client, d, returned["id"], "return", d.gas_liaison, reason="不属本单位职责")

    response = _merge(client, d, duplicate["id"], survivor["id"], note="重复报警")

    assert response.status_code == 200, response.get_json()
    states = {row["id"]: row["state"] for row in
              client.get(d.issue_url(duplicate["id"]), headers=d.h(d.desk)).get_json()}
    assert states == {live["id"]: "cancelled", issued["id"]: "cancelled", returned["id"]: "returned"}
    survivor_number = _incident(client, d, survivor["id"])["number"]
    cancels = sql("SELECT instruction_id, actor_user_id, data->>'reason' FROM timeline_events "
                  "WHERE incident_id = :i AND kind = 'instruction.cancel' ORDER BY instruction_id", i=duplicate["id"])
    assert [tuple(row) for row in cancels] == [(live["id"], d.desk.id, f"并案：并入 {survivor_number}"),
                                               (issued["id"], d.desk.id, f"并案：并入 {survivor_number}")]
    # The pending extension of the cancelled instruction lapsed with it.
    assert sql("SELECT state FROM instruction_extensions WHERE instruction_id = :i", i=live["id"])[0][0] == "lapsed"
    merge_step = _events(client, d, duplicate["id"])[-1]
    assert (merge_step["kind"], merge_step["from_state"], merge_step["to_state"], merge_step["actor_user_id"]) == (
        "incident.merge", "open", "merged", d.desk.id)
    assert (merge_step["data"]["into_incident_id"], merge_step["data"]["into_number"], merge_step["data"]["note"]) \
        == (survivor["id"], survivor_number, "重复报警")
    assert sorted(merge_step["data"]["cancelled_instruction_ids"]) == sorted([live["id"], issued["id"]])


def test_both_timelines_and_the_audit_chain_record_the_merge(client, district, pair, sql):
    d = district
    survivor, duplicate = pair

    assert _merge(client, d, duplicate["id"], survivor["id"], note="同一处燃气泄漏").status_code == 200

    assert [e["kind"] for e in _events(client, d, duplicate["id"])] == ["incident.received", "incident.merge"]
    absorbed = _events(client, d, survivor["id"])[-1]
    call_id = _incident(client, d, survivor["id"])["calls"][0]["id"]
    assert (absorbed["kind"], absorbed["actor_user_id"]) == ("incident.absorbed", d.desk.id)
    assert (absorbed["data"]["merged_incident_id"], absorbed["data"]["merged_number"], absorbed["data"]["call_id"],
            absorbed["data"]["note"]) == (duplicate["id"], duplicate["number"], call_id, "同一处燃气泄漏")
    audit = sql("SELECT action, target_id, actor_user_id FROM audit_events WHERE action IN "
                "('incident.merge', 'incident.call_merged') ORDER BY seq")
    assert [tuple(row) for row in audit] == [("incident.merge", str(duplicate["id"]), d.desk.id),
                                             ("incident.call_merged", str(survivor["id"]), d.desk.id)]


def test_a_resolved_incident_may_take_a_duplicate(app, client, district, pair):
    d = district
    survivor, duplicate = pair
    work = issue_one(client, d, survivor["id"], needs_site_visit=False)
    act(client, d, work["id"], "acknowledge", d.liaison)
    act(client, d, work["id"], "resolve", d.liaison, result_code="10", text="已处置")
    assert _incident(client, d, survivor["id"])["state"] == "resolved"

    assert _merge(client, d, duplicate["id"], survivor["id"]).status_code == 200

    detail = _incident(client, d, survivor["id"])
    assert detail["state"] == "resolved" and [c["caller_name"] for c in detail["calls"]] == ["李四"]


def test_merging_into_itself_is_422(client, district, pair, same_database):
    d = district
    _, duplicate = pair
    unchanged = same_database()

    assert_error(_merge(client, d, duplicate["id"], duplicate["id"]), 422, "merge_into_itself")
    unchanged()


@pytest.mark.parametrize("target_state", ["closed", "cancelled", "merged"])
def test_merging_into_an_incident_no_longer_in_hand_is_409(client, district, pair, sql, same_database, target_state):
    d = district
    survivor, duplicate = pair
    if target_state == "closed":
        sql("UPDATE incidents SET state = 'closed', closed_at = now() WHERE id = :i", i=survivor["id"])
    elif target_state == "cancelled":
        response = client.post(d.url("incidents", survivor["id"], "cancel"), json={"reason": "误报"},
                               headers=d.h(d.desk))
        assert response.status_code == 200, response.get_json()
    else:
        third = _intake(client, d, caller_name="王五", caller_phone="13700002222")
        assert _merge(client, d, survivor["id"], third["id"]).status_code == 200
    unchanged = same_database()

    assert_error(_merge(client, d, duplicate["id"], survivor["id"]), 409, "merge_target_not_open")
    unchanged()


def test_only_an_open_incident_is_merged(client, district, pair, same_database):
    d = district
    survivor, duplicate = pair
    work = issue_one(client, d, duplicate["id"], needs_site_visit=False)
    act(client, d, work["id"], "acknowledge", d.liaison)
    act(client, d, work["id"], "resolve", d.liaison, result_code="10", text="已处置")
    assert _incident(client, d, duplicate["id"])["state"] == "resolved"
    unchanged = same_database()

    assert_error(_merge(client, d, duplicate["id"], survivor["id"]), 409, "illegal_transition")
    unchanged()


def test_a_stale_version_is_412(client, district, pair, same_database):
    d = district
    survivor, duplicate = pair
    unchanged = same_database()

    assert_error(_merge(client, d, duplicate["id"], survivor["id"], version=duplicate["version"] + 1),
                 412, "version_mismatch")
    response = client.post(d.url("incidents", duplicate["id"], "merge"), json={"into_incident_id": survivor["id"]},
                           headers={**d.h(d.desk), "If-Match": f'"{duplicate["version"] + 1}"'})
    assert_error(response, 412, "version_mismatch")
    unchanged()


def test_merging_into_a_missing_or_foreign_incident_is_404(client, district, pair, factory, same_database):
    d = district
    _, duplicate = pair
    other = factory.tenant("620102", "城关区")
    other_desk = factory.user(other, "dispatcher", username="desk.620102")
    response = client.post("/api/v1/t/620102/incidents", json=call(), headers=auth(client, other_desk))
    assert response.status_code == 201, response.get_json()
    foreign = response.get_json()["incident"]["id"]
    unchanged = same_database()

    for target in (424242, foreign):
        assert_error(_merge(client, d, duplicate["id"], target), 404, "incident_not_found")
    unchanged()


def test_units_and_leaders_may_not_merge(client, district, pair, same_database):
    d = district
    survivor, duplicate = pair
    issue_one(client, d, duplicate["id"])  # 建设 holds an instruction on it, and still may not merge
    unchanged = same_database()

    for user in (d.liaison, d.unit_leader, d.responder, d.gas_liaison, d.city_leader):
        assert_error(_merge(client, d, duplicate["id"], survivor["id"], user), 403, "forbidden")
    unchanged()


def test_the_office_may_merge(client, district, pair):
    d = district
    survivor, duplicate = pair

    response = _merge(client, d, duplicate["id"], survivor["id"], d.office)

    assert response.status_code == 200 and response.get_json()["state"] == "merged"


def test_a_merged_incident_takes_no_more_desk_actions_nor_instructions(client, district, pair, same_database):
    d = district
    survivor, duplicate = pair
    cancelled = issue_one(client, d, duplicate["id"])
    assert _merge(client, d, duplicate["id"], survivor["id"]).status_code == 200
    unchanged = same_database()

    for action, body in (("urge", {"instruction_id": cancelled["id"], "note": "催"}),
                         ("callback", {"satisfaction": "satisfied"}), ("close", {}), ("cancel", {"reason": "误报"}),
                         ("merge", {"into_incident_id": survivor["id"]})):
        response = client.post(d.url("incidents", duplicate["id"], action), json=body, headers=d.h(d.desk))
        assert_error(response, 409, "illegal_transition")
    issue = client.post(d.issue_url(duplicate["id"]), headers=d.h(d.desk),
                        json={"instructions": [{"unit_id": d.gas_unit_id, "note": "速去"}]})
    assert_error(issue, 409, "incident_not_open")
    repeat = client.post(d.url("incidents", duplicate["id"], "merge-call"), headers=d.h(d.desk),
                         json={"source": "sms", "description": "又一个电话"})
    assert_error(repeat, 409, "incident_not_open")
    assert_error(client.post(d.url("incidents", survivor["id"], "merge"), json={"into_incident_id": duplicate["id"]},
                             headers=d.h(d.desk)), 409, "merge_target_not_open")
    unchanged()


def test_a_merged_incidents_returned_instruction_is_not_reissued(client, district, pair, same_database):
    """A merged incident is done with: reissuing its returned instruction must not put a unit back to work on it."""
    d = district
    survivor, duplicate = pair
    returned = issue_one(client, d, duplicate["id"], unit_id=d.gas_unit_id)
    act(client, d, returned["id"], "return", d.gas_liaison, reason="不属本单位职责")
    assert _merge(client, d, duplicate["id"], survivor["id"]).status_code == 200
    unchanged = same_database()

    response = client.post(d.action_url(returned["id"], "reissue"), json={"note": "请处置"}, headers=d.h(d.desk))

    assert_error(response, 409)
    unchanged()
