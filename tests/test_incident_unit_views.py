"""What a unit user sees of an incident: the incident itself while their unit was instructed on it, and
on the timeline only the incident's own steps and their own unit's instruction steps. Who hears an urge."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_incident_support import call
from tests.test_instruction_on_duty_responder import _put_on_duty
from tests.test_instruction_support import District, act, district, issue_one  # noqa: F401  (fixture)


def _intake(client, d: District) -> int:
    response = client.post(d.url("incidents"), json=call(), headers=d.h(d.desk))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["incident"]["id"]


def test_a_unit_reads_an_incident_it_was_instructed_on_and_no_other(client, district):
    d = district
    incident_id = _intake(client, d)
    other_id = _intake(client, d)
    water = issue_one(client, d, incident_id)
    for user in (d.liaison, d.unit_leader, d.responder):
        response = client.get(d.url("incidents", incident_id), headers=d.h(user))
        assert response.status_code == 200, (user.username, response.get_json())
        body = response.get_json()
        assert body["id"] == incident_id and response.headers["ETag"] == f'"{body["version"]}"'
        # The instruction is active: the unit may call the citizen back.
        assert (body["caller_phone"], body["is_caller_masked"]) == ("13812345678", False)
    assert_error(client.get(d.url("incidents", other_id), headers=d.h(d.liaison)), 403, "not_your_incident")
    assert_error(client.get(d.url("incidents", incident_id), headers=d.h(d.gas_liaison)), 403, "not_your_incident")
    # A unit that returned the job still reads what it was asked, with the caller masked.
    act(client, d, water["id"], "return", d.liaison, reason="不属本单位职责")
    body = client.get(d.url("incidents", incident_id), headers=d.h(d.liaison)).get_json()
    assert (body["caller_phone"], body["is_caller_masked"]) == ("138****5678", True)


def test_a_unit_sees_its_own_steps_and_the_incidents_not_another_units(client, district):
    d = district
    incident_id = _intake(client, d)
    water = issue_one(client, d, incident_id)
    gas = issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    act(client, d, water["id"], "acknowledge", d.liaison)
    act(client, d, gas["id"], "acknowledge", d.gas_liaison)
    act(client, d, gas["id"], "progress", d.gas_liaison, text="关阀后发现燃气表箱被私改，已报公安")
    urged = client.post(d.url("incidents", incident_id, "urge"), headers=d.h(d.desk),
                        json={"instruction_id": gas["id"], "note": "燃气公司请加快"})
    assert urged.status_code == 200, urged.get_json()

    def steps(user):
        response = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(user))
        assert response.status_code == 200, response.get_json()
        return [(event["kind"], event["instruction_id"]) for event in response.get_json()["events"]]

    everything = steps(d.desk)
    assert ("instruction.progress", gas["id"]) in everything and ("incident.urge", gas["id"]) in everything
    assert steps(d.liaison) == [("incident.received", None), ("instruction.issued", water["id"]),
                                ("instruction.acknowledge", water["id"])]
    gas_view = steps(d.gas_liaison)
    assert ("instruction.progress", gas["id"]) in gas_view and ("incident.urge", gas["id"]) in gas_view
    assert all(instruction_id != water["id"] for _, instruction_id in gas_view)
    # The leadership group and the office read it all.
    assert steps(d.city_leader) == everything == steps(d.office)


def test_an_urge_reaches_the_liaison_the_people_on_duty_and_the_named_responders(app, client, district, factory):
    d = district
    incident_id = _intake(client, d)
    instruction = issue_one(client, d, incident_id)
    _put_on_duty(app, d)  # d.responder is on duty now, not named yet
    response = client.post(d.url("incidents", incident_id, "urge"), headers=d.h(d.desk),
                           json={"instruction_id": instruction["id"], "note": "请立即签收"})
    assert response.status_code == 200, response.get_json()
    for user in (d.liaison, d.responder):
        inbox = [m for m in client.get(d.url("inbox"), headers=d.h(user)).get_json()
                 if m["kind"] != "instruction.issued"]  # the liaison also has the new instruction's notice
        assert [(m["kind"], m["body"]) for m in inbox] == [("instruction.urged", "请立即签收")], user.username
    # The unit's leader is not on duty and not named: the yellow 催办 is not theirs (red goes to leaders).
    assert client.get(d.url("inbox"), headers=d.h(d.unit_leader)).get_json() == []
