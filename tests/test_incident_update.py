"""The desk classifies or corrects an open incident; If-Match guards against stale writes (412)."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_incident_support import category_id, desk, record  # noqa: F401


def test_the_desk_confirms_a_category_which_teaches_routing(app, client, desk, sql):
    incident = record(client, desk)["incident"]
    gas = category_id(app, desk.tenant, "燃气泄漏")

    response = client.patch(desk.url(incident["id"]), json={"category_id": gas, "severity": "urgent"},
                            headers={**desk.headers["dispatcher"], "If-Match": '"1"'})

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["category_id"], response.get_json()["version"]) == (gas, 2)
    assert response.headers["ETag"] == '"2"'
    assert sql("SELECT category_id, source_ref FROM routing_examples")[0] == (gas, incident["number"])
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'incident.updated'")[0][0] == 1


def test_a_stale_if_match_is_412_and_changes_nothing(client, desk, sql):
    incident = record(client, desk)["incident"]
    client.patch(desk.url(incident["id"]), json={"severity": "urgent"}, headers=desk.headers["dispatcher"])

    response = client.patch(desk.url(incident["id"]), json={"severity": "major"},
                            headers={**desk.headers["dispatcher"], "If-Match": '"1"'})

    assert_error(response, 412, "version_mismatch")
    assert sql("SELECT severity, version FROM incidents")[0] == ("urgent", 2)


def test_the_etag_of_a_read_is_the_version(client, desk):
    incident = record(client, desk)["incident"]

    response = client.get(desk.url(incident["id"]), headers=desk.headers["leader"])

    assert response.headers["ETag"] == '"1"' and response.get_json()["version"] == 1


def test_a_closed_incident_is_not_edited(client, desk, sql):
    incident = record(client, desk)["incident"]
    sql("UPDATE incidents SET state = 'closed' WHERE id = :id", id=incident["id"])

    response = client.patch(desk.url(incident["id"]), json={"severity": "major"}, headers=desk.headers["dispatcher"])

    assert_error(response, 409, "incident_not_open")


def test_only_the_desk_edits(client, desk):
    incident = record(client, desk)["incident"]

    for role in ("admin", "leader", "responder"):
        assert_error(client.patch(desk.url(incident["id"]), json={"severity": "major"}, headers=desk.headers[role]),
                     403)
