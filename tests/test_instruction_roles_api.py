"""Who may move an instruction, through the API: a sample of forbidden moves per role (403/409),
stale versions (412) by If-Match and by body, and a return without a reason (422)."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def _issued(app, client, d) -> int:
    return issue_one(client, d, make_incident(app, d.tenant))["id"]


def test_another_units_liaison_gets_not_your_unit(app, client, district, sql):
    d = district
    iid = _issued(app, client, d)
    for action, body in (("acknowledge", {}), ("return", {"reason": "x"})):
        assert_error(client.post(d.action_url(iid, action), headers=d.h(d.gas_liaison), json=body),
                     403, "not_your_unit")
    assert_error(client.get(d.url("instructions", iid), headers=d.h(d.gas_liaison)), 403, "not_your_unit")
    assert sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0] == ("issued", 1)


def test_a_responder_not_named_nor_on_duty_may_not_act(app, client, district):
    d = district
    iid = _issued(app, client, d)
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.responder), json={}),
                 403, "not_assigned_to_you")
    client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={})  # names nobody
    assert_error(client.post(d.action_url(iid, "set-out"), headers=d.h(d.responder), json={}),
                 403, "not_assigned_to_you")
    assert_error(client.get(d.url("instructions", iid), headers=d.h(d.responder)), 403, "not_assigned_to_you")


def test_the_unit_leader_may_act_like_the_liaison(app, client, district):
    d = district
    iid = _issued(app, client, d)
    assert client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.unit_leader), json={}).status_code == 200


def test_desk_office_and_leaders_may_not_apply_unit_actions(app, client, district):
    d = district
    iid = _issued(app, client, d)
    for user in (d.desk, d.office, d.city_leader):
        assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(user), json={}), 403)


def test_unit_users_may_not_cancel_reopen_or_reissue(app, client, district):
    d = district
    iid = _issued(app, client, d)
    for user in (d.liaison, d.unit_leader, d.responder):
        for action in ("cancel", "reopen", "reissue"):
            assert_error(client.post(d.action_url(iid, action), headers=d.h(user), json={}), 403)


def test_the_office_may_cancel(app, client, district):
    d = district
    iid = _issued(app, client, d)
    assert client.post(d.action_url(iid, "cancel"), headers=d.h(d.office), json={}).status_code == 200


def test_illegal_moves_are_409_with_the_state_and_transition(app, client, district):
    d = district
    iid = _issued(app, client, d)
    body = assert_error(client.post(d.action_url(iid, "arrive"), headers=d.h(d.liaison), json={}),
                        409, "illegal_transition")
    assert "issued" in body["message"] and "arrive" in body["message"]
    assert_error(client.post(d.action_url(iid, "reopen"), headers=d.h(d.desk), json={}), 409, "illegal_transition")
    assert_error(client.post(d.action_url(iid, "reissue"), headers=d.h(d.desk), json={}), 409, "illegal_transition")
    client.post(d.action_url(iid, "return"), headers=d.h(d.liaison), json={"reason": "非本单位职责"})
    assert_error(client.post(d.action_url(iid, "cancel"), headers=d.h(d.desk), json={}), 409, "illegal_transition")


def test_stale_version_is_412_by_if_match_and_by_body(app, client, district, sql):
    d = district
    iid = _issued(app, client, d)
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison, **{"If-Match": '"7"'}),
                             json={}), 412, "version_mismatch")
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={"version": 2}),
                 412, "version_mismatch")
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison, **{"If-Match": "garbage"}),
                             json={}), 412, "version_mismatch")
    assert sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0] == ("issued", 1)
    ok = client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison, **{"If-Match": 'W/"1"'}), json={})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'


def test_return_without_reason_is_422_and_changes_nothing(app, client, district, sql):
    d = district
    iid = _issued(app, client, d)
    assert_error(client.post(d.action_url(iid, "return"), headers=d.h(d.liaison), json={}), 422)
    assert_error(client.post(d.action_url(iid, "return"), headers=d.h(d.liaison), json={"reason": "  "}), 422)
    assert sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0] == ("issued", 1)
    assert sql("SELECT count(*) FROM timeline_events WHERE instruction_id = :i", i=iid)[0][0] == 1


def test_unknown_result_code_is_422(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant), needs_site_visit=False)["id"]
    client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={})
    assert_error(client.post(d.action_url(iid, "resolve"), headers=d.h(d.liaison), json={"result_code": "77"}), 422)
    assert_error(client.post(d.action_url(iid, "resolve"), headers=d.h(d.liaison), json={"result_code": "90"}),
                 422, "result_text_required")


def test_responders_named_must_be_of_the_unit(app, client, district, sql):
    d = district
    iid = _issued(app, client, d)
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison),
                             json={"responder_ids": [d.gas_liaison.id]}), 422, "responder_not_in_unit")
    assert sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0] == ("issued", 1)


def test_a_unit_user_lists_only_their_units_instructions_of_an_incident(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant)
    issue_one(client, d, incident_id)
    issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    seen = client.get(d.issue_url(incident_id), headers=d.h(d.gas_liaison)).get_json()
    assert [i["unit_id"] for i in seen] == [d.gas_unit_id]
    assert len(client.get(d.issue_url(incident_id), headers=d.h(d.desk)).get_json()) == 2
