"""A desk action retried with the same Idempotency-Key (a double click on 催办) replays the first answer:
one timeline step, one inbox notice; the same key with another body is 422."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def test_replayed_urge_records_one_step_and_one_notice(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    instruction_id = issue_one(client, d, incident_id)["id"]
    url = d.url("incidents", incident_id, "urge")
    headers = d.h(d.desk, **{"Idempotency-Key": "urge-1"})
    body = {"instruction_id": instruction_id, "note": "请立即到场"}
    first = client.post(url, headers=headers, json=body)
    again = client.post(url, headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    assert sql("SELECT count(*) FROM timeline_events WHERE incident_id = :i AND kind = 'incident.urge'",
               i=incident_id)[0][0] == 1
    assert sql("SELECT count(*) FROM notifications WHERE kind = 'instruction.urged' AND recipient_user_id = :u",
               u=d.liaison.id)[0][0] == 1
    assert_error(client.post(url, headers=headers, json={**body, "note": "再催"}), 422, "idempotency_key_reused")


def test_a_refused_cancel_leaves_the_key_free(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    url = d.url("incidents", incident_id, "cancel")
    headers = d.h(d.desk, **{"Idempotency-Key": "cancel-1"})
    assert_error(client.post(url, headers={**headers, "If-Match": '"9"'}, json={"reason": "误报"}), 412)
    assert sql("SELECT state, version FROM incidents WHERE id = :i", i=incident_id)[0] == ("open", 1)
    response = client.post(url, headers=headers, json={"reason": "误报"})
    assert response.status_code == 200 and response.get_json()["state"] == "cancelled"
