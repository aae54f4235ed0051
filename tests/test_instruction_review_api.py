"""Review (审核) of a resolved instruction through the API: the desk accepts it (stamping reviewed_at/by) or
sends it back for redo (重办) with a note, which reopens the work and brings the incident back to open.
Every refusal changes nothing in the database."""
from __future__ import annotations

import pytest

from tests.factories import assert_error
from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401  (fixture)


def _review(client, d: District, instruction_id: int, outcome: str, user=None, **body):
    return client.post(d.action_url(instruction_id, "review"), json={"outcome": outcome, **body},
                       headers=d.h(user or d.desk))


def _incident(client, d: District, incident_id: int) -> dict:
    return client.get(d.url("incidents", incident_id), headers=d.h(d.desk)).get_json()


def _resolved(app, client, d: District) -> tuple[int, dict]:
    """An incident whose only instruction (to 建设) is resolved, so the incident is resolved too."""
    incident_id = make_incident(app, d.tenant)
    instruction = issue_one(client, d, incident_id)
    act(client, d, instruction["id"], "acknowledge", d.liaison)
    act(client, d, instruction["id"], "arrive", d.liaison, text="到场")
    return incident_id, act(client, d, instruction["id"], "resolve", d.liaison, result_code="10", text="已处置")



def test_accept_stamps_the_review_and_keeps_the_instruction_resolved(app, client, district, sql):
    d = district
    incident_id, instruction = _resolved(app, client, d)
    incident_before = _incident(client, d, incident_id)

    response = _review(client, d, instruction["id"], "accepted", note="处置到位")

    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert (out["state"], out["reviewed_by_user_id"], out["version"]) == ("resolved", d.desk.id,
                                                                          instruction["version"] + 1)
    assert out["reviewed_at"] and response.headers["ETag"] == f'"{out["version"]}"'
    stored = sql("SELECT state, reviewed_at IS NOT NULL, reviewed_by_user_id FROM instructions WHERE id = :i",
                 i=instruction["id"])
    assert tuple(stored[0]) == ("resolved", True, d.desk.id)
    # The incident stays resolved, at the same version: a review is the instruction's step.
    after = _incident(client, d, incident_id)
    assert (after["state"], after["version"]) == ("resolved", incident_before["version"])
    last = sql("SELECT kind, from_state, to_state, actor_user_id, data->>'note' FROM timeline_events "
               "WHERE incident_id = :i ORDER BY id DESC LIMIT 1", i=incident_id)
    assert tuple(last[0]) == ("instruction.accept", "resolved", "resolved", d.desk.id, "处置到位")
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'instruction.accept' AND target_id = :i "
               "AND actor_user_id = :u", i=str(instruction["id"]), u=d.desk.id)[0][0] == 1


def test_accepting_twice_is_409_already_reviewed(app, client, district, same_database):
    d = district
    _, instruction = _resolved(app, client, d)
    assert _review(client, d, instruction["id"], "accepted").status_code == 200
    unchanged = same_database()

    assert_error(_review(client, d, instruction["id"], "accepted"), 409, "already_reviewed")
    unchanged()


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_sending_back_needs_a_note(app, client, district, same_database, body):
    d = district
    _, instruction = _resolved(app, client, d)
    unchanged = same_database()

    assert_error(_review(client, d, instruction["id"], "sent_back", **body), 422, "review_note_required")
    unchanged()


def test_an_unknown_outcome_is_422(app, client, district, same_database):
    d = district
    _, instruction = _resolved(app, client, d)
    unchanged = same_database()

    assert_error(_review(client, d, instruction["id"], "rejected", note="不行"), 422)
    assert_error(client.post(d.action_url(instruction["id"], "review"), json={"note": "缺少结论"},
                             headers=d.h(d.desk)), 422)
    unchanged()


def test_sent_back_reopens_the_work_and_the_incident(app, client, district, sql):
    d = district
    incident_id, instruction = _resolved(app, client, d)
    assert _review(client, d, instruction["id"], "accepted").status_code == 200
    incident_before = _incident(client, d, incident_id)
    assert incident_before["state"] == "resolved" and incident_before["resolved_at"]

    response = _review(client, d, instruction["id"], "sent_back", note="现场照片不清，重新处置")

    assert response.status_code == 200, response.get_json()
    out = response.get_json()
    assert (out["state"], out["redo_count"], out["reviewed_at"], out["reviewed_by_user_id"]) == (
        "acknowledged", 1, None, None)
    assert out["reopened_at"]
    stored = sql("SELECT state, redo_count, reviewed_at, reviewed_by_user_id, reopened_by_user_id "
                 "FROM instructions WHERE id = :i", i=instruction["id"])
    assert tuple(stored[0]) == ("acknowledged", 1, None, None, d.desk.id)
    incident = _incident(client, d, incident_id)
    assert (incident["state"], incident["resolved_at"], incident["version"]) == (
        "open", None, incident_before["version"] + 1)
    events = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()["events"]
    reopen, reopened = events[-2:]
    assert (reopen["kind"], reopen["instruction_id"], reopen["from_state"], reopen["to_state"]) == (
        "instruction.reopen", instruction["id"], "resolved", "acknowledged")
    assert reopen["data"]["reason"] == "现场照片不清，重新处置"
    assert (reopened["kind"], reopened["from_state"], reopened["to_state"], reopened["actor_user_id"]) == (
        "incident.work_reopened", "resolved", "open", d.desk.id)
    assert reopened["data"]["caused_by_instruction_id"] == instruction["id"]
    assert sql("SELECT state FROM incidents WHERE id = :i", i=incident_id)[0][0] == "open"
    # The redo needs a fresh review: the unit resolves again, and the desk may accept again.
    act(client, d, instruction["id"], "arrive", d.liaison, text="再次到场")
    act(client, d, instruction["id"], "resolve", d.liaison, result_code="10", text="已重新处置")
    assert _incident(client, d, incident_id)["state"] == "resolved"
    assert _review(client, d, instruction["id"], "accepted").status_code == 200


def test_an_unreviewed_result_may_be_sent_back_too(app, client, district):
    d = district
    incident_id, instruction = _resolved(app, client, d)

    response = _review(client, d, instruction["id"], "sent_back", note="结果不实")

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["state"], response.get_json()["redo_count"]) == ("acknowledged", 1)
    assert _incident(client, d, incident_id)["state"] == "open"


@pytest.mark.parametrize("outcome, body", [("accepted", {}), ("sent_back", {"note": "重办"})])
def test_only_a_resolved_instruction_is_reviewed(app, client, district, same_database, outcome, body):
    d = district
    incident_id = make_incident(app, d.tenant)
    issued = issue_one(client, d, incident_id)
    acknowledged = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, acknowledged["id"], "acknowledge", d.gas_liaison)
    returned = issue_one(client, d, incident_id, unit_id=d.police_unit_id)
    act(client, d, returned["id"], "return", d.police_liaison, reason="不属本单位职责")
    unchanged = same_database()

    for instruction in (issued, acknowledged, returned):
        assert_error(_review(client, d, instruction["id"], outcome, **body), 409, "illegal_transition")
    unchanged()


def test_units_and_leaders_may_not_review(app, client, district, same_database):
    d = district
    _, instruction = _resolved(app, client, d)
    unchanged = same_database()

    for user in (d.liaison, d.unit_leader, d.responder, d.gas_liaison, d.city_leader):
        for outcome, body in (("accepted", {}), ("sent_back", {"note": "重办"})):
            assert_error(_review(client, d, instruction["id"], outcome, user, **body), 403, "forbidden")
    unchanged()


def test_a_stale_version_is_412(app, client, district, same_database):
    d = district
    _, instruction = _resolved(app, client, d)
    unchanged = same_database()

    assert_error(_review(client, d, instruction["id"], "accepted", version=instruction["version"] - 1),
                 412, "version_mismatch")
    unchanged()
    assert _review(client, d, instruction["id"], "accepted", version=instruction["version"]).status_code == 200


def test_a_closed_incidents_instruction_is_not_sent_back(app, client, district, same_database):
    """Closed is final (办结): sending its work back must not bring an instruction of it back to life."""
    d = district
    incident_id, instruction = _resolved(app, client, d)
    assert _review(client, d, instruction["id"], "accepted").status_code == 200
    for action, body in (("callback", {"satisfaction": "satisfied"}), ("close", {"note": "办结"})):
        response = client.post(d.url("incidents", incident_id, action), json=body, headers=d.h(d.desk))
        assert response.status_code == 200, response.get_json()
    unchanged = same_database()

    assert_error(_review(client, d, instruction["id"], "sent_back", note="办结后发现问题"), 409)
    unchanged()
