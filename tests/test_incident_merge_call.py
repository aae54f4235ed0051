"""并单: a repeat call joins an open incident and is kept as part of it."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_incident_support import desk, record  # noqa: F401

REPEAT = {"source": "transfer_12345", "caller_name": "李四", "caller_phone": "13900001111",
          "description": "对面楼也闻到燃气味"}


def test_a_repeat_call_is_kept_with_the_incident(client, desk, sql):
    incident = record(client, desk)["incident"]

    response = client.post(desk.url(incident["id"], "merge-call"), json=REPEAT, headers=desk.headers["dispatcher"])

    assert response.status_code == 201, response.get_json()
    merged = response.get_json()
    assert (merged["source"], merged["caller_phone"], merged["description"]) == (
        "transfer_12345", "13900001111", "对面楼也闻到燃气味")
    detail = client.get(desk.url(incident["id"]), headers=desk.headers["dispatcher"])
    assert [c["id"] for c in detail.get_json()["calls"]] == [merged["id"]]
    assert detail.get_json()["version"] == 2 and detail.headers["ETag"] == '"2"'
    assert sql("SELECT count(*) FROM incidents")[0][0] == 1
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'incident.call_merged'")[0][0] == 1


def test_a_call_cannot_join_an_incident_no_longer_open(client, desk, sql):
    incident = record(client, desk)["incident"]
    sql("UPDATE incidents SET state = 'closed' WHERE id = :id", id=incident["id"])

    response = client.post(desk.url(incident["id"], "merge-call"), json=REPEAT, headers=desk.headers["dispatcher"])

    assert_error(response, 409, "incident_not_open")
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 0


def test_merging_into_a_missing_incident_is_404(client, desk):
    response = client.post(desk.url(424242, "merge-call"), json=REPEAT, headers=desk.headers["dispatcher"])

    assert_error(response, 404, "incident_not_found")


def test_only_the_desk_merges_calls(client, desk, sql):
    incident = record(client, desk)["incident"]

    for role in ("admin", "leader", "responder"):
        response = client.post(desk.url(incident["id"], "merge-call"), json=REPEAT, headers=desk.headers[role])
        assert_error(response, 403)
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 0


def test_a_bad_repeat_call_is_refused(client, desk, sql):
    incident = record(client, desk)["incident"]

    response = client.post(desk.url(incident["id"], "merge-call"), json={**REPEAT, "source": "telegram"},
                           headers=desk.headers["dispatcher"])

    assert "source" in assert_error(response, 422)["errors"]
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 0
