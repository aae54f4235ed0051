"""Another district's incident ids lead nowhere: 404 for reads and writes, nothing changed."""
from __future__ import annotations

from tests.factories import assert_error, auth
from tests.test_incident_support import call, desk, record  # noqa: F401


def test_a_foreign_incident_id_is_404_everywhere(client, desk, factory, sql):
    ours = record(client, desk)["incident"]
    other = factory.tenant("620102", "城关区")
    other_desk = auth(client, factory.user(other, "dispatcher", username="desk.620102"))
    base = f"/api/v1/t/620102/incidents/{ours['id']}"
    before = sql("SELECT version, description FROM incidents")

    assert_error(client.get(base, headers=other_desk), 404, "incident_not_found")
    assert_error(client.patch(base, json={"severity": "major"}, headers=other_desk), 404, "incident_not_found")
    assert_error(client.post(base + "/merge-call", json={"source": "sms"}, headers=other_desk), 404,
                 "incident_not_found")
    assert client.get("/api/v1/t/620102/incidents", headers=other_desk).get_json() == []
    assert sql("SELECT version, description FROM incidents") == before
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 0


def test_the_path_tenant_must_be_the_callers(client, desk, factory):
    factory.tenant("620102", "城关区")

    response = client.post("/api/v1/t/620102/incidents", json=call(), headers=desk.headers["dispatcher"])

    assert_error(response, 404, "tenant_not_found")


def test_a_category_of_another_district_is_refused(app, client, desk, factory, sql):
    other = factory.tenant("620102", "城关区")
    foreign = sql("SELECT id FROM categories WHERE tenant_id = :t AND parent_id IS NOT NULL LIMIT 1", t=other.id)[0][0]

    response = client.post(desk.url(), json=call(category_id=foreign), headers=desk.headers["dispatcher"])

    assert_error(response, 422, "category_not_found")
    assert sql("SELECT count(*) FROM incidents")[0][0] == 0


def test_incidents_made_for_other_test_modules_stay_in_their_district(app, client, desk, factory, sql):
    from tests.test_incident_support import make_incident

    other = factory.tenant("620102", "城关区")
    other_dispatcher = factory.user(other, "dispatcher", username="desk.620102")
    theirs = make_incident(app, other, other_dispatcher, description="b620102警情")

    assert sql("SELECT tenant_id, description FROM incidents WHERE id = :id", id=theirs)[0] == (other.id, "b620102警情")
    assert_error(client.get(desk.url(theirs), headers=desk.headers["dispatcher"]), 404, "incident_not_found")
    assert client.get(desk.url(), headers=desk.headers["leader"]).get_json() == []
