"""The incident follows its instructions: it is resolved when the last live instruction resolves (returned and
cancelled ones do not count), and open again when one comes back to work; each move is one step of the
incident machine (`incident.work_done` / `incident.work_reopened`) by the user whose step caused it."""
from __future__ import annotations

from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401  (fixture)


def _resolve(client, d: District, instruction_id: int, user) -> dict:
    act(client, d, instruction_id, "acknowledge", user)
    act(client, d, instruction_id, "arrive", user, text="到场")
    return act(client, d, instruction_id, "resolve", user, result_code="10", text="已处置")


def _incident(client, d: District, incident_id: int) -> dict:
    response = client.get(d.url("incidents", incident_id), headers=d.h(d.desk))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _steps(sql, incident_id: int, kind: str) -> list[tuple]:
    return [tuple(row) for row in sql(
        "SELECT from_state, to_state, actor_user_id, (data->>'caused_by_instruction_id')::bigint, "
        "(data->>'unit_id')::bigint FROM timeline_events WHERE incident_id = :i AND kind = :k ORDER BY id",
        i=incident_id, k=kind)]


def test_the_incident_is_resolved_only_when_the_last_live_instruction_resolves(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)

    _resolve(client, d, works["id"], d.liaison)

    still = _incident(client, d, incident_id)
    assert (still["state"], still["resolved_at"]) == ("open", None)
    assert _steps(sql, incident_id, "incident.work_done") == []

    act(client, d, gas["id"], "acknowledge", d.gas_liaison)
    act(client, d, gas["id"], "arrive", d.gas_liaison, text="到场")
    before = _incident(client, d, incident_id)["version"]
    act(client, d, gas["id"], "resolve", d.gas_liaison, result_code="10", text="已关阀")

    after = _incident(client, d, incident_id)
    assert (after["state"], after["version"]) == ("resolved", before + 1)
    assert after["resolved_at"]
    assert _steps(sql, incident_id, "incident.work_done") == [("open", "resolved", d.gas_liaison.id, gas["id"],
                                                               d.gas_unit_id)]
    audit = sql("SELECT actor_user_id, after->>'state' FROM audit_events WHERE action = 'incident.work_done' "
                "AND target_id = :i", i=str(incident_id))
    assert [tuple(row) for row in audit] == [(d.gas_liaison.id, "resolved")]
    stored = sql("SELECT state, version, resolved_at IS NOT NULL FROM incidents WHERE id = :i", i=incident_id)
    assert tuple(stored[0]) == ("resolved", before + 1, True)


def test_a_returned_instruction_does_not_hold_the_incident_open(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, gas["id"], "return", d.gas_liaison, reason="不属本单位职责")
    assert _incident(client, d, incident_id)["state"] == "open"  # the 建设 instruction is still live

    _resolve(client, d, works["id"], d.liaison)

    assert _incident(client, d, incident_id)["state"] == "resolved"
    assert _steps(sql, incident_id, "incident.work_done") == [("open", "resolved", d.liaison.id, works["id"],
                                                               d.unit_id)]


def test_cancelling_the_last_live_instruction_resolves_the_incident_by_the_desk(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    _resolve(client, d, works["id"], d.liaison)
    before = _incident(client, d, incident_id)
    assert before["state"] == "open"

    act(client, d, gas["id"], "cancel", d.desk, reason="无需燃气公司处置")

    after = _incident(client, d, incident_id)
    assert (after["state"], after["version"]) == ("resolved", before["version"] + 1)
    assert _steps(sql, incident_id, "incident.work_done") == [("open", "resolved", d.desk.id, gas["id"],
                                                               d.gas_unit_id)]


def test_an_incident_whose_only_instruction_was_returned_stays_open(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    version = _incident(client, d, incident_id)["version"]

    act(client, d, works["id"], "return", d.liaison, reason="不属本单位职责")

    assert (_incident(client, d, incident_id)["state"], _incident(client, d, incident_id)["version"]) == (
        "open", version)
    assert _steps(sql, incident_id, "incident.work_done") == []


def test_reissuing_a_returned_instruction_reopens_a_resolved_incident(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, gas["id"], "return", d.gas_liaison, reason="不属本单位职责")
    _resolve(client, d, works["id"], d.liaison)
    resolved = _incident(client, d, incident_id)
    assert resolved["state"] == "resolved"

    again = act(client, d, gas["id"], "reissue", d.desk, note="燃气味仍在，属燃气公司职责")

    assert again["state"] == "issued"
    incident = _incident(client, d, incident_id)
    assert (incident["state"], incident["resolved_at"], incident["version"]) == ("open", None,
                                                                                 resolved["version"] + 1)
    assert _steps(sql, incident_id, "incident.work_reopened") == [("resolved", "open", d.desk.id, gas["id"],
                                                                   d.gas_unit_id)]
    # When the gas company resolves in turn, the incident is resolved again: a second work_done step.
    _resolve(client, d, gas["id"], d.gas_liaison)
    assert _incident(client, d, incident_id)["state"] == "resolved"
    assert [step[2] for step in _steps(sql, incident_id, "incident.work_done")] == [d.liaison.id, d.gas_liaison.id]


def test_the_incident_steps_sit_after_the_instruction_step_that_caused_them(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    works = issue_one(client, d, incident_id)
    _resolve(client, d, works["id"], d.liaison)

    events = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()["events"]

    assert [e["kind"] for e in events][-2:] == ["instruction.resolve", "incident.work_done"]
    assert events[-1]["actor_user_id"] == d.liaison.id
    assert events[-1]["data"]["caused_by_instruction_id"] == works["id"]


def test_giving_a_returned_job_to_another_unit_reopens_a_resolved_incident(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    police = issue_one(client, d, incident_id, unit_id=d.police_unit_id)
    act(client, d, gas["id"], "return", d.gas_liaison, reason="是自来水管，不是燃气")
    _resolve(client, d, police["id"], d.police_liaison)
    assert _incident(client, d, incident_id)["state"] == "resolved"

    response = client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.unit_id, "note": "改派建设局", "reissue_of_id": gas["id"]}]})

    assert response.status_code == 201, response.get_json()
    works = response.get_json()[0]
    assert (works["unit_id"], works["reissue_of_id"], works["state"]) == (d.unit_id, gas["id"], "issued")
    assert _incident(client, d, incident_id)["state"] == "open"
    assert _steps(sql, incident_id, "incident.work_reopened") == [("resolved", "open", d.desk.id, works["id"],
                                                                   d.unit_id)]
