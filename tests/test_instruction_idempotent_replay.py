"""An acknowledge retried with the same Idempotency-Key replays the first answer and writes
nothing twice; the same key with another body is 422."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def test_replayed_acknowledge_gives_the_same_answer_and_no_second_row(app, client, district, sql):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    headers = d.h(d.liaison, **{"Idempotency-Key": "ack-1", "If-Match": '"1"'})
    body = {"responder_ids": [d.responder.id], "client_time": "2026-11-29T09:00:00+08:00"}
    first = client.post(d.action_url(iid, "acknowledge"), headers=headers, json=body)
    again = client.post(d.action_url(iid, "acknowledge"), headers=headers, json=body)
    assert first.status_code == again.status_code == 200
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json() and again.headers["ETag"] == first.headers["ETag"] == '"2"'
    assert sql("SELECT version FROM instructions WHERE id = :i", i=iid)[0][0] == 2
    assert sql("SELECT count(*) FROM timeline_events WHERE instruction_id = :i AND kind = 'instruction.acknowledge'",
               i=iid)[0][0] == 1
    assert sql("SELECT count(*) FROM instruction_responders WHERE instruction_id = :i", i=iid)[0][0] == 1

    other = client.post(d.action_url(iid, "acknowledge"), headers=headers, json={"responder_ids": []})
    assert_error(other, 422, "idempotency_key_reused")


def test_a_failed_transition_leaves_the_key_free(app, client, district, sql):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    headers = d.h(d.liaison, **{"Idempotency-Key": "ack-2"})
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers={**headers, "If-Match": '"9"'}, json={}), 412)
    assert sql("SELECT count(*) FROM idempotency_keys")[0][0] == 0
    assert client.post(d.action_url(iid, "acknowledge"), headers=headers, json={}).status_code == 200
