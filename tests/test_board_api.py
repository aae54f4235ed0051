"""The desk board (调度看板) through the API: the incidents still in hand with their instructions, run-out clocks
and pending extensions; overdue first, then major > urgent > general, newest first; filters by incident state,
severity, unit, instruction state and overdue, the instruction filters holding for one and the same instruction.
Clocks are run out by moving an instruction's deadlines into the past as the table owner."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests.factories import assert_error, auth
from tests.test_incident_support import call
from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401  (fixture)

DEADLINES = {"acknowledge": "acknowledge_by", "arrive": "arrive_by", "resolve": "resolve_by"}


def _board(client, d: District, user=None, **query):
    response = client.get(d.url("board"), query_string=query, headers=d.h(user or d.desk))
    assert response.status_code == 200, response.get_json()
    return response


def _ids(client, d: District, user=None, **query) -> list[int]:
    return [row["incident"]["id"] for row in _board(client, d, user, **query).get_json()]


def _late(sql, instruction_id: int, *clocks: str) -> None:
    """Run out these clocks of the instruction: their deadlines an hour ago."""
    sets = ", ".join(f"{DEADLINES[clock]} = now() - interval '1 hour'" for clock in clocks)
    assert sql(f"UPDATE instructions SET {sets} WHERE id = :i", i=instruction_id) == 1


def _resolved_incident(app, client, d: District, **fields) -> int:
    incident_id = make_incident(app, d.tenant, **fields)
    work = issue_one(client, d, incident_id, needs_site_visit=False)
    act(client, d, work["id"], "acknowledge", d.liaison)
    act(client, d, work["id"], "resolve", d.liaison, result_code="10", text="已处置")
    return incident_id


def test_by_default_the_board_shows_open_and_resolved_incidents_only(app, client, district, sql):
    d = district
    open_id = make_incident(app, d.tenant)
    resolved_id = _resolved_incident(app, client, d)
    closed_id = make_incident(app, d.tenant)
    sql("UPDATE incidents SET state = 'closed', closed_at = now() WHERE id = :i", i=closed_id)
    cancelled_id = make_incident(app, d.tenant)
    assert client.post(d.url("incidents", cancelled_id, "cancel"), json={"reason": "误报"},
                       headers=d.h(d.desk)).status_code == 200
    merged_id = make_incident(app, d.tenant)
    assert client.post(d.url("incidents", merged_id, "merge"), json={"into_incident_id": open_id},
                       headers=d.h(d.desk)).status_code == 200

    assert sorted(_ids(client, d)) == sorted([open_id, resolved_id])
    assert _ids(client, d, state="closed") == [closed_id]
    assert sorted(_ids(client, d, state=["merged", "cancelled"])) == sorted([merged_id, cancelled_id])
    assert _ids(client, d, state="resolved") == [resolved_id]


def test_severity_filter(app, client, district):
    d = district
    general = make_incident(app, d.tenant)
    urgent = make_incident(app, d.tenant, severity="urgent")
    major = make_incident(app, d.tenant, severity="major")

    assert _ids(client, d, severity="major") == [major]
    assert _ids(client, d, severity=["general", "urgent"]) == [urgent, general]
    assert_error(client.get(d.url("board"), query_string={"severity": "huge"}, headers=d.h(d.desk)), 422)


def test_unit_and_instruction_state_filters(app, client, district):
    d = district
    to_works = make_incident(app, d.tenant)
    issue_one(client, d, to_works)
    to_gas = make_incident(app, d.tenant)
    acknowledged = issue_one(client, d, to_gas, unit_id=d.gas_unit_id)
    act(client, d, acknowledged["id"], "acknowledge", d.gas_liaison)
    to_both = make_incident(app, d.tenant)
    issue_one(client, d, to_both)
    issue_one(client, d, to_both, unit_id=d.gas_unit_id)
    no_instruction = make_incident(app, d.tenant)

    assert _ids(client, d, unit_id=d.unit_id) == [to_both, to_works]
    assert _ids(client, d, unit_id=d.gas_unit_id) == [to_both, to_gas]
    assert _ids(client, d, unit_id=d.police_unit_id) == []
    assert _ids(client, d, instruction_state="acknowledged") == [to_gas]
    assert _ids(client, d, instruction_state=["issued", "acknowledged"]) == [to_both, to_gas, to_works]
    # Unit and state hold for the same instruction: the gas instruction of `to_both` is not acknowledged.
    assert _ids(client, d, unit_id=d.gas_unit_id, instruction_state="acknowledged") == [to_gas]
    assert _ids(client, d, unit_id=d.unit_id, instruction_state="acknowledged") == []
    assert no_instruction in _ids(client, d)


def test_overdue_filter(app, client, district, sql):
    d = district
    late = make_incident(app, d.tenant)
    _late(sql, issue_one(client, d, late)["id"], "acknowledge")
    on_time = make_incident(app, d.tenant)
    issue_one(client, d, on_time)
    no_instruction = make_incident(app, d.tenant)
    # A resolved instruction is never late, whatever its deadlines say.
    resolved = _resolved_incident(app, client, d)
    sql("UPDATE instructions SET acknowledge_by = now() - interval '2 hours', resolve_by = now() - interval "
        "'1 hour' WHERE incident_id = :i", i=resolved)

    assert _ids(client, d, overdue="true") == [late]
    assert sorted(_ids(client, d, overdue="false")) == sorted([on_time, no_instruction, resolved])
    rows = {row["incident"]["id"]: row for row in _board(client, d).get_json()}
    assert {incident_id: row["is_overdue"] for incident_id, row in rows.items()} == {
        late: True, on_time: False, no_instruction: False, resolved: False}


def test_unit_and_overdue_hold_for_the_same_instruction(app, client, district, sql):
    d = district
    gas_late = make_incident(app, d.tenant)
    issue_one(client, d, gas_late)                                    # 建设: on time
    _late(sql, issue_one(client, d, gas_late, unit_id=d.gas_unit_id)["id"], "acknowledge")
    works_late = make_incident(app, d.tenant)
    _late(sql, issue_one(client, d, works_late)["id"], "resolve")

    assert _ids(client, d, unit_id=d.unit_id, overdue="true") == [works_late]
    assert _ids(client, d, unit_id=d.gas_unit_id, overdue="true") == [gas_late]
    assert _ids(client, d, unit_id=d.gas_unit_id, instruction_state="acknowledged", overdue="true") == []


def test_not_overdue_for_a_unit_means_that_units_instruction_is_on_time(app, client, district, sql):
    """overdue=false with unit_id: "none has" a clock run out among that unit's instructions (BoardArgs says so)."""
    d = district
    gas_late = make_incident(app, d.tenant)
    issue_one(client, d, gas_late)                                    # 建设: on time
    _late(sql, issue_one(client, d, gas_late, unit_id=d.gas_unit_id)["id"], "acknowledge")
    works_late = make_incident(app, d.tenant)
    _late(sql, issue_one(client, d, works_late)["id"], "resolve")

    assert _ids(client, d, unit_id=d.unit_id, overdue="false") == [gas_late]
    assert _ids(client, d, unit_id=d.gas_unit_id, overdue="false") == []


def test_overdue_first_then_major_urgent_general_newest_first(app, client, district, sql):
    d = district
    general_old = make_incident(app, d.tenant)
    late_major = make_incident(app, d.tenant, severity="major")
    _late(sql, issue_one(client, d, late_major)["id"], "acknowledge")
    urgent = make_incident(app, d.tenant, severity="urgent")
    late_general = make_incident(app, d.tenant)
    _late(sql, issue_one(client, d, late_general)["id"], "resolve")
    major = make_incident(app, d.tenant, severity="major")
    general_new = make_incident(app, d.tenant)

    assert _ids(client, d) == [late_major, late_general, major, urgent, general_new, general_old]


def test_each_instruction_lists_its_run_out_clocks(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    issued = issue_one(client, d, incident_id, needs_site_visit=True)
    _late(sql, issued["id"], "acknowledge", "arrive", "resolve")
    on_the_way = issue_one(client, d, incident_id, unit_id=d.gas_unit_id, needs_site_visit=True)
    act(client, d, on_the_way["id"], "acknowledge", d.gas_liaison)
    act(client, d, on_the_way["id"], "set-out", d.gas_liaison)
    _late(sql, on_the_way["id"], "acknowledge", "arrive")             # acknowledged in time or not, it was
    on_scene = issue_one(client, d, incident_id, unit_id=d.police_unit_id, needs_site_visit=True)
    act(client, d, on_scene["id"], "acknowledge", d.police_liaison)
    act(client, d, on_scene["id"], "arrive", d.police_liaison, text="到场")
    _late(sql, on_scene["id"], "acknowledge", "arrive", "resolve")

    [row] = _board(client, d).get_json()

    clocks = {item["instruction"]["id"]: item["overdue"] for item in row["instructions"]}
    assert clocks == {issued["id"]: ["acknowledge", "arrive", "resolve"], on_the_way["id"]: ["arrive"],
                      on_scene["id"]: ["resolve"]}
    assert row["is_overdue"] is True
    names = {item["instruction"]["id"]: item["unit_short_name"] for item in row["instructions"]}
    assert names == {issued["id"]: "建设", on_the_way["id"]: "天然气", on_scene["id"]: "公安"}
    assert all(item["unit_name"] for item in row["instructions"])
    by_id = {item["instruction"]["id"]: item["instruction"] for item in row["instructions"]}
    assert by_id[on_the_way["id"]]["state"] == "en_route"
    stored = sql("SELECT resolve_by FROM instructions WHERE id = :i", i=issued["id"])[0][0]
    assert datetime.fromisoformat(by_id[issued["id"]]["resolve_by"]) == stored


def test_no_site_visit_means_no_arrive_clock(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    work = issue_one(client, d, incident_id, needs_site_visit=False)
    act(client, d, work["id"], "acknowledge", d.liaison)
    sql("UPDATE instructions SET arrive_by = now() - interval '1 hour' WHERE id = :i", i=work["id"])

    [row] = _board(client, d).get_json()

    assert (row["instructions"][0]["overdue"], row["is_overdue"]) == ([], False)
    assert _ids(client, d, overdue="true") == []


def test_a_pending_extension_is_flagged(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = act(client, d, issue_one(client, d, incident_id)["id"], "acknowledge", d.liaison)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)

    def flags() -> dict[int, bool]:
        [row] = _board(client, d).get_json()
        return {item["instruction"]["id"]: item["has_pending_extension"] for item in row["instructions"]}

    assert flags() == {works["id"]: False, gas["id"]: False}
    act(client, d, works["id"], "request-extension", d.liaison, reason="等待材料",
          resolve_by=(datetime.fromisoformat(works["resolve_by"]) + timedelta(days=1)).isoformat())
    assert flags() == {works["id"]: True, gas["id"]: False}
    act(client, d, works["id"], "approve-extension", d.desk)
    assert flags() == {works["id"]: False, gas["id"]: False}


def test_pages_carry_the_total(app, client, district):
    d = district
    made = [make_incident(app, d.tenant) for _ in range(5)]

    response = _board(client, d, page=1, page_size=2)

    assert json.loads(response.headers["X-Pagination"])["total"] == 5
    assert [row["incident"]["id"] for row in response.get_json()] == made[::-1][:2]
    last = _board(client, d, page=3, page_size=2)
    assert [row["incident"]["id"] for row in last.get_json()] == [made[0]]


def test_the_desk_sees_the_caller_a_leader_reads_the_board_masked(client, district):
    d = district
    response = client.post(d.url("incidents"), json=call(), headers=d.h(d.desk))
    assert response.status_code == 201, response.get_json()

    [desk_row] = _board(client, d).get_json()
    [office_row] = _board(client, d, d.office).get_json()
    [leader_row] = _board(client, d, d.city_leader).get_json()

    assert (desk_row["incident"]["caller_name"], desk_row["incident"]["caller_phone"],
            desk_row["incident"]["is_caller_masked"]) == ("张三", "13812345678", False)
    assert office_row["incident"]["caller_phone"] == "13812345678"
    assert (leader_row["incident"]["caller_name"], leader_row["incident"]["caller_phone"],
            leader_row["incident"]["is_caller_masked"]) == ("张*", "138****5678", True)


def test_unit_users_may_not_read_the_board(app, client, district):
    d = district
    make_incident(app, d.tenant)

    for user in (d.liaison, d.unit_leader, d.responder, d.gas_liaison):
        assert_error(client.get(d.url("board"), headers=d.h(user)), 403, "forbidden")


def test_another_districts_incidents_never_appear(app, client, district, factory):
    d = district
    ours = make_incident(app, d.tenant)
    other = factory.tenant("620102", "城关区")
    theirs = make_incident(app, other, severity="major")
    other_desk = auth(client, factory.user(other, "dispatcher", username="desk.620102"))

    assert _ids(client, d) == [ours]
    assert _ids(client, d, state=["open", "resolved", "closed", "cancelled", "merged"]) == [ours]
    theirs_board = client.get("/api/v1/t/620102/board", headers=other_desk)
    assert [row["incident"]["id"] for row in theirs_board.get_json()] == [theirs]
    assert json.loads(_board(client, d).headers["X-Pagination"])["total"] == 1
    # Nor through the path: our desk asking for their board is refused.
    assert client.get("/api/v1/t/620102/board", headers=d.h(d.desk)).status_code == 404
