"""`flask demo seed`: the demo district comes from the Liangzhou template and has unit teams."""
from __future__ import annotations

from tests.factories import login

TEAM_UNITS = ["公安", "民政", "建设", "质监", "供电", "天然气"]


def test_demo_units_each_have_a_liaison_a_leader_and_two_responders(app, client, sql):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])

    assert result.exit_code == 0, result.output
    teams = sql("""SELECT u.short_name, array_agg(r ORDER BY r) AS roles FROM users p
                     JOIN units u ON u.tenant_id = p.tenant_id AND u.id = p.unit_id, unnest(p.roles) r
                    GROUP BY u.short_name""")
    assert {t.short_name: t.roles for t in teams} == dict.fromkeys(
        TEAM_UNITS, ["responder", "responder", "unit_leader", "unit_liaison"])
    assert login(client, "gas-crew", "Liandong-2026")["user"]["unit"]["short_name"] == "天然气"
    assert login(client, "water-crew", "Liandong-2026")["user"]["unit"]["short_name"] == "建设"
    assert "lift-liaison" in result.output


def test_the_demo_district_is_provisioned_from_the_template(app, sql):
    app.test_cli_runner().invoke(args=["demo", "seed"])

    tenant = sql("SELECT id FROM tenants WHERE code = '620602'")[0].id
    assert sql("SELECT count(*) FROM units WHERE tenant_id = :t", t=tenant)[0][0] == 31
    assert sql("SELECT count(*) FROM categories WHERE tenant_id = :t AND parent_id IS NOT NULL",
               t=tenant)[0][0] >= 60


def test_the_demo_has_a_dozen_incidents_in_every_state(app, sql):
    first = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    incident_states = {row[0] for row in sql("SELECT DISTINCT state FROM incidents")}
    assert incident_states == {"open", "resolved", "closed", "cancelled", "merged"}
    instruction_states = {row[0] for row in sql("SELECT DISTINCT state FROM instructions")}
    assert instruction_states == {"issued", "acknowledged", "en_route", "on_scene", "resolved", "returned",
                                  "cancelled"}
    assert sql("SELECT count(*) FROM incidents")[0][0] == 12
    # The stories left their marks: a pending extension, a redo, a review, a merged repeat call, a major notice.
    assert sql("SELECT count(*) FROM instruction_extensions WHERE state = 'pending'")[0][0] == 1
    assert sql("SELECT count(*) FROM instructions WHERE redo_count = 1 AND state = 'acknowledged'")[0][0] == 1
    assert sql("SELECT count(*) FROM instructions WHERE reviewed_at IS NOT NULL")[0][0] >= 2
    assert sql("SELECT count(*) FROM incident_calls")[0][0] == 1
    assert sql("SELECT count(*) FROM notifications WHERE kind = 'incident.major'")[0][0] >= 1
    # Seeding again adds nothing.
    again = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert again.exit_code == 0, again.output
    assert sql("SELECT count(*) FROM incidents")[0][0] == 12
