"""The whole instruction lifecycle through the API: issue, acknowledge with responders, set out,
arrive with position and photos, progress, resolve; state times, ETags, feedback and the timeline."""
from __future__ import annotations

import uuid

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def test_full_lifecycle_stamps_every_state_and_writes_the_timeline_in_order(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    instruction = issue_one(client, d, incident_id)
    assert instruction["state"] == "issued" and instruction["version"] == 1
    assert instruction["acknowledge_by"] and instruction["resolve_by"] and instruction["arrive_by"]
    iid = instruction["id"]

    got = client.get(d.url("instructions", iid), headers=d.h(d.liaison))
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'

    ack = client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison, **{"If-Match": '"1"'}),
                      json={"responder_ids": [d.responder.id]})
    assert ack.status_code == 200, ack.get_json()
    assert ack.get_json()["state"] == "acknowledged" and ack.get_json()["responder_ids"] == [d.responder.id]
    assert ack.headers["ETag"] == '"2"'

    # The named responder carries on.
    assert client.post(d.action_url(iid, "set-out"), headers=d.h(d.responder), json={"version": 2}).status_code == 200
    photo = str(uuid.uuid4())
    arrive = client.post(d.action_url(iid, "arrive"), headers=d.h(d.responder), json={
        "version": 3, "client_time": "2026-11-29T10:00:00+08:00", "text": "现场有燃气味",
        "position": {"latitude": 37.928, "longitude": 102.641, "accuracy_m": 15}, "media_ids": [photo]})
    assert arrive.status_code == 200, arrive.get_json()
    assert client.post(d.action_url(iid, "progress"), headers=d.h(d.responder),
                       json={"text": "已关阀"}).status_code == 200
    resolved = client.post(d.action_url(iid, "resolve"), headers=d.h(d.responder),
                           json={"result_code": "12", "text": "已抢修", "media_ids": [photo]})
    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert body["state"] == "resolved" and body["version"] == 6 and body["result_code"] == "12"
    for stamp in ("issued_at", "acknowledged_at", "en_route_at", "arrived_at", "resolved_at"):
        assert body[stamp] is not None, stamp

    feedback = client.get(d.url("instructions", iid, "feedback"), headers=d.h(d.desk)).get_json()
    assert [f["kind"] for f in feedback] == ["arrival", "progress", "result"]
    assert feedback[0]["media_ids"] == [photo] and feedback[0]["accuracy_m"] == 15
    assert feedback[0]["client_at"].startswith("2026-11-29T10:00:00") and feedback[0]["at"] != feedback[0]["client_at"]

    rows = sql("SELECT kind, from_state, to_state, actor_user_id FROM timeline_events "
               "WHERE incident_id = :i ORDER BY id", i=incident_id)
    assert [tuple(r) for r in rows] == [
        ("instruction.issued", None, "issued", d.desk.id),
        ("instruction.acknowledge", "issued", "acknowledged", d.liaison.id),
        ("instruction.set_out", "acknowledged", "en_route", d.responder.id),
        ("instruction.arrive", "en_route", "on_scene", d.responder.id),
        ("instruction.progress", "on_scene", "on_scene", d.responder.id),
        ("instruction.resolve", "on_scene", "resolved", d.responder.id),
        ("incident.work_done", "open", "resolved", d.responder.id),
    ]
    actions = [r[0] for r in sql("SELECT action FROM audit_events WHERE target_type = 'instruction' "
                                 "AND target_id = :i ORDER BY seq", i=str(iid))]
    assert actions == ["instruction.issued", "instruction.acknowledge", "instruction.set_out", "instruction.arrive",
                       "instruction.progress", "instruction.resolve"]
    # The only instruction is resolved: so is the incident.
    assert sql("SELECT state FROM incidents WHERE id = :i", i=incident_id)[0][0] == "resolved"


def test_reopen_after_resolve_goes_back_to_acknowledged_and_reopens_the_incident(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    iid = issue_one(client, d, incident_id, needs_site_visit=False)["id"]
    client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={})
    # No site visit needed: straight from acknowledged to resolved.
    assert client.post(d.action_url(iid, "resolve"), headers=d.h(d.liaison),
                       json={"result_code": "10"}).status_code == 200
    reopened = client.post(d.action_url(iid, "reopen"), headers=d.h(d.desk), json={"reason": "回访不满意"})
    assert reopened.status_code == 200, reopened.get_json()
    assert (reopened.get_json()["state"], reopened.get_json()["redo_count"]) == ("acknowledged", 1)
    assert sql("SELECT state FROM incidents WHERE id = :i", i=incident_id)[0][0] == "open"


def test_resolve_without_visit_is_refused_when_a_visit_is_needed(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant), needs_site_visit=True)["id"]
    client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={})
    assert_error(client.post(d.action_url(iid, "resolve"), headers=d.h(d.liaison), json={"result_code": "10"}),
                 409, "site_visit_required")


def test_return_then_reissue_overrules_the_return(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    returned = client.post(d.action_url(iid, "return"), headers=d.h(d.liaison), json={"reason": "不属本单位职责"})
    assert returned.status_code == 200 and returned.get_json()["return_reason"] == "不属本单位职责"
    again = client.post(d.action_url(iid, "reissue"), headers=d.h(d.desk), json={"note": "属建设局职责，请处置"})
    assert again.status_code == 200, again.get_json()
    assert (again.get_json()["state"], again.get_json()["is_overruled_return"]) == ("issued", True)


def test_desk_cancels_a_running_instruction(app, client, district):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    cancelled = client.post(d.action_url(iid, "cancel"), headers=d.h(d.desk), json={"reason": "误报"})
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={}),
                 409, "illegal_transition")


def test_the_sample_instruction_helper_gives_an_acknowledged_instruction_naming_the_responder(app, client, district):
    from tests.test_instruction_support import make_instruction

    d = district
    incident_id, iid = make_instruction(app, d.tenant, desk_user_id=d.desk.id, liaison_user_id=d.liaison.id,
                                        responder_user_id=d.responder.id)
    body = client.get(d.url("instructions", iid), headers=d.h(d.responder)).get_json()
    assert (body["incident_id"], body["state"], body["responder_ids"]) == (incident_id, "acknowledged",
                                                                           [d.responder.id])


def test_a_returned_instruction_is_reassigned_to_another_unit(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    iid = issue_one(client, d, incident_id)["id"]
    other = client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.gas_unit_id, "reissue_of_id": iid}]})
    assert_error(other, 422, "reissue_of_not_returned")
    client.post(d.action_url(iid, "return"), headers=d.h(d.liaison), json={"reason": "燃气问题，非建设局职责"})
    moved = client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.gas_unit_id, "reissue_of_id": iid, "note": "改派天然气公司"}]})
    assert moved.status_code == 201, moved.get_json()
    assert moved.get_json()[0]["reissue_of_id"] == iid
    # The return was accepted, not overruled: it does not count against 建设.
    assert sql("SELECT is_overruled_return FROM instructions WHERE id = :i", i=iid)[0][0] is False


def test_timeline_and_active_units_for_the_incident_views(app, client, district):
    from app.blueprints.instructions import service
    from app.tenants.context import tenant_scope

    d = district
    incident_id = make_incident(app, d.tenant)
    kept = issue_one(client, d, incident_id)["id"]
    gone = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)["id"]
    client.post(d.action_url(gone, "return"), headers=d.h(d.gas_liaison), json={"reason": "非本单位职责"})
    client.post(d.action_url(kept, "acknowledge"), headers=d.h(d.liaison), json={})
    with app.app_context(), tenant_scope([d.tenant.id]):
        assert service.active_unit_ids(incident_id=incident_id) == {d.unit_id}
        steps = [(e.instruction_id, e.kind) for e in service.timeline_of(incident_id=incident_id)]
    assert steps == [(kept, "instruction.issued"), (gone, "instruction.issued"), (gone, "instruction.return"),
                     (kept, "instruction.acknowledge")]
