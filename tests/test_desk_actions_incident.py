"""Desk and office actions on a whole incident through the incident machine: urge (催办), callback (回访),
close (办结), cancel as a false report (误报); allowed and forbidden moves per role, 409, 412."""
from __future__ import annotations

from tests.test_incident_support import call
from tests.test_instruction_support import District, act, district, issue_one  # noqa: F401  (fixture)


def _intake(client, d: District) -> int:
    response = client.post(d.url("incidents"), json=call(), headers=d.h(d.desk))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["incident"]["id"]


def _act(client, d: District, incident_id: int, action: str, user, status: int = 200, headers=None, **body):
    response = client.post(d.url("incidents", incident_id, action), json=body,
                           headers={**d.h(user), **(headers or {})})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _resolved(client, d: District) -> tuple[int, dict]:
    incident_id = _intake(client, d)
    instruction = issue_one(client, d, incident_id)
    act(client, d, instruction["id"], "acknowledge", d.liaison)
    act(client, d, instruction["id"], "arrive", d.liaison, text="到场")
    act(client, d, instruction["id"], "resolve", d.liaison, result_code="10", text="已处置")
    return incident_id, instruction


def _review(client, d: District, instruction_id: int, outcome: str = "accepted", status: int = 200, **body):
    response = client.post(d.action_url(instruction_id, "review"), json={"outcome": outcome, **body},
                           headers=d.h(d.desk))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _incident(client, d: District, incident_id: int) -> dict:
    return client.get(d.url("incidents", incident_id), headers=d.h(d.desk)).get_json()


def _kinds(client, d: District, incident_id: int) -> list[str]:
    body = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()
    return [event["kind"] for event in body["events"]]


def test_satisfied_callback_then_close(client, district, sql):
    d = district
    incident_id, instruction = _resolved(client, d)
    _review(client, d, instruction["id"])
    out = _act(client, d, incident_id, "callback", d.desk, satisfaction="basically_satisfied", note="群众基本满意")
    assert (out["state"], out["satisfaction"], out["callback_note"]) == ("resolved", "basically_satisfied",
                                                                         "群众基本满意")
    assert out["callback_at"]
    out = _act(client, d, incident_id, "close", d.office, note="办结")
    assert out["state"] == "closed" and out["closed_at"]
    assert _kinds(client, d, incident_id)[-2:] == ["incident.callback", "incident.close"]
    actions = [row[0] for row in sql("SELECT action FROM audit_events WHERE target_type = 'incident' "
                                     "AND target_id = :i ORDER BY id", i=str(incident_id))]
    assert actions[-2:] == ["incident.callback", "incident.close"]
    # Closed is final.
    assert _act(client, d, incident_id, "callback", d.desk, 409, satisfaction="satisfied")["error"] == \
        "illegal_transition"


def test_close_needs_resolution_review_and_a_satisfied_callback(client, district):
    d = district
    open_id = _intake(client, d)
    assert _act(client, d, open_id, "close", d.desk, 409)["error"] == "illegal_transition"
    incident_id, instruction = _resolved(client, d)
    _act(client, d, incident_id, "callback", d.desk, satisfaction="satisfied")
    assert _act(client, d, incident_id, "close", d.desk, 409)["error"] == "review_required"
    _review(client, d, instruction["id"])
    assert _act(client, d, incident_id, "close", d.desk)["state"] == "closed"
    incident_id, instruction = _resolved(client, d)
    _review(client, d, instruction["id"])
    assert _act(client, d, incident_id, "close", d.desk, 409)["error"] == "callback_required"
    assert _act(client, d, open_id, "callback", d.desk, 409, satisfaction="satisfied")["error"] == \
        "illegal_transition"


def test_dissatisfied_callback_reopens_the_lead_instruction(client, district):
    d = district
    incident_id, instruction = _resolved(client, d)
    out = _act(client, d, incident_id, "callback", d.desk, satisfaction="dissatisfied", note="漏水未修好")
    assert out["state"] == "open" and out["resolved_at"] is None
    again = client.get(d.url("instructions", instruction["id"]), headers=d.h(d.desk)).get_json()
    assert (again["state"], again["redo_count"], again["reviewed_at"]) == ("acknowledged", 1, None)
    assert _kinds(client, d, incident_id)[-2:] == ["instruction.reopen", "incident.redo"]
    assert _act(client, d, incident_id, "close", d.desk, 409)["error"] == "illegal_transition"
    # The unit redoes it; a new, satisfied callback lets the desk close.
    act(client, d, instruction["id"], "arrive", d.liaison, text="再次到场")
    act(client, d, instruction["id"], "resolve", d.liaison, result_code="10", text="已修好")
    _review(client, d, instruction["id"])
    assert _act(client, d, incident_id, "close", d.desk, 409)["error"] == "callback_required"
    _act(client, d, incident_id, "callback", d.desk, satisfaction="satisfied")
    assert _act(client, d, incident_id, "close", d.desk)["state"] == "closed"


def test_false_report_cancels_the_incident_and_its_live_instructions(client, district):
    d = district
    incident_id = _intake(client, d)
    live = issue_one(client, d, incident_id)
    returned = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, returned["id"], "return", d.gas_liaison, reason="不属本单位")
    out = _act(client, d, incident_id, "cancel", d.desk, reason="误报")
    assert (out["state"], out["cancel_reason"]) == ("cancelled", "误报") and out["cancelled_at"]
    states = {row["id"]: row["state"] for row in client.get(d.issue_url(incident_id), headers=d.h(d.desk)).get_json()}
    assert states == {live["id"]: "cancelled", returned["id"]: "returned"}
    assert _kinds(client, d, incident_id)[-2:] == ["instruction.cancel", "incident.cancel"]
    assert _act(client, d, incident_id, "cancel", d.desk, 409, reason="再撤")["error"] == "illegal_transition"
    assert _act(client, d, incident_id, "urge", d.desk, 409, instruction_id=live["id"], note="催")["error"] == \
        "illegal_transition"


def test_units_and_leaders_may_not_act_on_the_incident(client, district, sql):
    d = district
    incident_id, instruction = _resolved(client, d)
    before = _incident(client, d, incident_id)
    for user in (d.liaison, d.unit_leader, d.responder, d.city_leader):
        for action, body in (("callback", {"satisfaction": "satisfied"}), ("close", {}),
                             ("cancel", {"reason": "误报"}), ("urge", {"instruction_id": instruction["id"],
                                                                     "note": "催"})):
            assert _act(client, d, incident_id, action, user, 403, **body)["error"] == "forbidden", (user, action)
    assert _incident(client, d, incident_id) == before


def test_urge_records_a_step_and_tells_the_units_liaison(client, district):
    d = district
    incident_id = _intake(client, d)
    instruction = issue_one(client, d, incident_id)
    out = _act(client, d, incident_id, "urge", d.desk, instruction_id=instruction["id"], note="请尽快到场")
    assert out["state"] == "open"
    body = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()
    urge = body["events"][-1]
    assert (urge["kind"], urge["instruction_id"], urge["data"]["note"], urge["actor_user_id"]) == (
        "incident.urge", instruction["id"], "请尽快到场", d.desk.id)
    inbox = client.get(d.url("inbox"), headers=d.h(d.liaison)).get_json()
    assert ("instruction.urged", "请尽快到场") in [(m["kind"], m["body"]) for m in inbox]
    gas_inbox = client.get(d.url("inbox"), headers=d.h(d.gas_liaison)).get_json()
    assert "instruction.urged" not in [m["kind"] for m in gas_inbox]
    # A returned instruction is not urged; an instruction of another incident is not found.
    other = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, other["id"], "return", d.gas_liaison, reason="不属本单位")
    assert _act(client, d, incident_id, "urge", d.desk, 409, instruction_id=other["id"], note="催")["error"] == \
        "instruction_not_live"
    assert _act(client, d, _intake(client, d), "urge", d.desk, 404, instruction_id=instruction["id"],
                note="催")["error"] == "instruction_not_found"


def test_stale_version_is_412_and_changes_nothing(client, district):
    d = district
    incident_id, instruction = _resolved(client, d)
    _review(client, d, instruction["id"])  # an instruction's step: the incident's version stays
    current = client.get(d.url("incidents", incident_id), headers=d.h(d.desk))
    etag, version = current.headers["ETag"], current.get_json()["version"]
    assert _act(client, d, incident_id, "callback", d.desk, 412, headers={"If-Match": f'"{version - 1}"'},
                satisfaction="satisfied")["error"] == "version_mismatch"
    assert _act(client, d, incident_id, "cancel", d.desk, 409, version=version - 1, reason="误报")["error"] == \
        "illegal_transition"
    assert _incident(client, d, incident_id)["version"] == version
    out = _act(client, d, incident_id, "callback", d.desk, headers={"If-Match": etag}, satisfaction="satisfied")
    assert out["version"] == version + 1
    assert _act(client, d, incident_id, "close", d.desk, 412, version=version)["error"] == "version_mismatch"
    assert _act(client, d, incident_id, "close", d.desk, version=version + 1)["state"] == "closed"
