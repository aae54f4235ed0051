"""Issuing instructions: one per unit, police_first brings the police in the same transaction,
a major incident tells the leadership group, deadlines come from the time-limit policy."""
from __future__ import annotations

from datetime import datetime

from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def test_police_first_instructs_the_police_and_the_responsible_unit_together(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant, route="police_first")
    response = client.post(d.issue_url(incident_id), headers=d.h(d.desk),
                           json={"instructions": [{"unit_id": d.gas_unit_id, "role": "lead", "note": "燃气泄漏"}]})
    assert response.status_code == 201, response.get_json()
    by_unit = {i["unit_id"]: i for i in response.get_json()}
    assert set(by_unit) == {d.police_unit_id, d.gas_unit_id}
    assert by_unit[d.police_unit_id]["role"] == "assist" and by_unit[d.gas_unit_id]["role"] == "lead"
    assert {i["state"] for i in by_unit.values()} == {"issued"}
    # Same transaction: both issued at the same instant.
    assert by_unit[d.police_unit_id]["issued_at"] == by_unit[d.gas_unit_id]["issued_at"]
    assert sql("SELECT count(*) FROM timeline_events WHERE incident_id = :i AND kind = 'instruction.issued'",
               i=incident_id)[0][0] == 2


def test_police_first_naming_the_police_does_not_instruct_it_twice(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant, route="police_first")
    response = client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.police_unit_id, "role": "lead"}, {"unit_id": d.gas_unit_id, "role": "assist"}]})
    assert response.status_code == 201
    assert sorted(i["unit_id"] for i in response.get_json()) == sorted([d.police_unit_id, d.gas_unit_id])


def test_route_police_instructs_the_police_only(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant, route="police")
    assert_error(client.post(d.issue_url(incident_id), headers=d.h(d.desk),
                             json={"instructions": [{"unit_id": d.gas_unit_id}]}), 422, "police_route_police_only")
    assert sql("SELECT count(*) FROM instructions")[0][0] == 0


def test_a_failed_issue_writes_nothing_not_even_the_police_instruction(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant, route="police_first")
    issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    # 天然气 is already instructed: the whole request fails, 建设 is not instructed either.
    assert_error(client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.unit_id}, {"unit_id": d.gas_unit_id}]}), 409, "unit_already_instructed")
    assert sql("SELECT count(*) FROM instructions WHERE unit_id = :u", u=d.unit_id)[0][0] == 0


def test_a_major_incident_notifies_the_leadership_group_once(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant, severity="major")
    issue_one(client, d, incident_id)
    issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    rows = sql("SELECT recipient_user_id, kind FROM notifications WHERE kind = 'incident.major'")
    assert [tuple(r) for r in rows] == [(d.city_leader.id, "incident.major")]


def test_a_general_incident_notifies_no_leader(app, client, district, sql):
    d = district
    issue_one(client, d, make_incident(app, d.tenant))
    assert sql("SELECT count(*) FROM notifications WHERE kind = 'incident.major'")[0][0] == 0


def test_deadlines_are_the_time_limit_policys(app, client, district):
    from app.blueprints.timelimits.service import plan_clocks
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    d = district
    instruction = issue_one(client, d, make_incident(app, d.tenant, severity="urgent"))
    issued_at = datetime.fromisoformat(instruction["issued_at"])
    with app.app_context(), tenant_scope([d.tenant.id]):
        plan = plan_clocks(tenant=db.session.get(Tenant, d.tenant.id), duty_class="emergency", severity="urgent",
                           area="urban", issued_at=issued_at, needs_site_visit=True)
    assert datetime.fromisoformat(instruction["acknowledge_by"]) == plan.deadlines.acknowledge_by
    assert datetime.fromisoformat(instruction["arrive_by"]) == plan.deadlines.arrive_by
    assert datetime.fromisoformat(instruction["resolve_by"]) == plan.deadlines.resolve_by


def test_one_instruction_per_unit(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant)
    assert_error(client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.unit_id}, {"unit_id": d.unit_id, "role": "assist"}]}), 422, "unit_named_twice")
    issue_one(client, d, incident_id)
    assert_error(client.post(d.issue_url(incident_id), headers=d.h(d.desk),
                             json={"instructions": [{"unit_id": d.unit_id}]}), 409, "unit_already_instructed")


def test_only_the_desk_issues(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant)
    for user in (d.liaison, d.city_leader, d.office):
        assert_error(client.post(d.issue_url(incident_id), headers=d.h(user),
                                 json={"instructions": [{"unit_id": d.unit_id}]}), 403)


def test_supervisor_unit_takes_no_instructions(app, client, district, factory):
    d = district
    supervisor_unit = factory.unit_id(d.tenant, "督查办")
    assert_error(client.post(d.issue_url(make_incident(app, d.tenant)), headers=d.h(d.desk),
                             json={"instructions": [{"unit_id": supervisor_unit}]}), 422, "unit_not_instructable")
