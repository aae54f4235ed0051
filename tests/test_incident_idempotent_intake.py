"""A call posted twice with one Idempotency-Key is recorded once."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_incident_support import call, desk  # noqa: F401


def test_the_same_key_and_body_replays_the_first_answer(client, desk, sql):
    headers = {**desk.headers["dispatcher"], "Idempotency-Key": "intake-1"}

    first = client.post(desk.url(), json=call(), headers=headers)
    again = client.post(desk.url(), json=call(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert sql("SELECT count(*) FROM incidents")[0][0] == 1
    assert sql("SELECT last_serial FROM incident_counters")[0][0] == 1
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'incident.received'")[0][0] == 1


def test_the_same_key_with_another_body_is_422(client, desk, sql):
    headers = {**desk.headers["dispatcher"], "Idempotency-Key": "intake-1"}
    client.post(desk.url(), json=call(), headers=headers)

    response = client.post(desk.url(), json=call(description="另一件事：井盖丢失"), headers=headers)

    assert_error(response, 422, "idempotency_key_reused")
    assert sql("SELECT count(*) FROM incidents")[0][0] == 1


def test_a_merged_call_replays_too(client, desk, sql):
    incident = client.post(desk.url(), json=call(), headers=desk.headers["dispatcher"]).get_json()["incident"]
    headers = {**desk.headers["dispatcher"], "Idempotency-Key": "merge-1"}
    body = {"source": "phone_110", "caller_phone": "13900001111", "description": "又闻到燃气味"}

    first = client.post(desk.url(incident["id"], "merge-call"), json=body, headers=headers)
    again = client.post(desk.url(incident["id"], "merge-call"), json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 1
