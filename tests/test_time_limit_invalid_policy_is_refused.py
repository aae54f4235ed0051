"""Policy changes that make no sense are refused with a code and change nothing; the database holds the line too."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.factories import assert_error, auth


@pytest.fixture
def office(client, factory):
    tenant = factory.tenant()
    headers = auth(client, factory.user(tenant, "tenant_admin"))
    policy = client.get(f"/api/v1/t/{tenant.code}/time-limits", headers=headers).get_json()
    cells = {(c["duty_class"], c["severity"]): c["id"] for c in policy["defaults"]}
    steps = {(s["clock"], s["step"]): s["id"] for s in policy["escalation_steps"]}
    return tenant, headers, cells, steps


def policy_rows(sql, tenant_id):
    return (sql("SELECT * FROM time_limit_defaults WHERE tenant_id = :t ORDER BY id", t=tenant_id),
            sql("SELECT * FROM escalation_steps WHERE tenant_id = :t ORDER BY id", t=tenant_id),
            sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t", t=tenant_id))


@pytest.mark.parametrize("body, field", [
    ({"ack_minutes": 0}, "ack_minutes"),
    ({"ack_minutes": -5}, "ack_minutes"),
    ({"ack_minutes": 2.5}, "ack_minutes"),
    ({"arrive_minutes": {"urban": 0}}, "arrive_minutes"),
    ({"arrive_minutes": {"downtown": 10}}, "arrive_minutes"),
    ({"resolve_hours": 0}, "resolve_hours"),
    ({"resolve_working_days": 91}, "resolve_working_days"),
    ({"resolve_hours": 24, "resolve_working_days": 3}, "resolve_hours"),
])
def test_cell_values_out_of_bounds_or_in_two_units_are_refused(client, sql, office, body, field):
    tenant, headers, cells, _ = office
    before = policy_rows(sql, tenant.id)
    response = client.patch(f"/api/v1/t/{tenant.code}/time-limits/defaults/{cells[('standard', 'general')]}",
                            headers=headers, json=body)
    assert field in assert_error(response, 422)["errors"]
    assert policy_rows(sql, tenant.id) == before


def test_clearing_the_resolve_unit_without_giving_the_other_is_refused(client, sql, office):
    tenant, headers, cells, _ = office
    before = policy_rows(sql, tenant.id)
    url = f"/api/v1/t/{tenant.code}/time-limits/defaults/{cells[('standard', 'general')]}"
    for body in ({"resolve_working_days": None}, {"resolve_hours": None, "resolve_working_days": None}):
        assert_error(client.patch(url, headers=headers, json=body), 422, "exactly_one_resolve_limit")
    assert policy_rows(sql, tenant.id) == before


@pytest.mark.parametrize("clock, step, body, error", [
    ("acknowledge", "warning", {"offset_minutes": 0}, "escalation_steps_out_of_order"),
    ("acknowledge", "warning", {"offset_minutes": 5}, "escalation_steps_out_of_order"),
    ("acknowledge", "yellow", {"offset_minutes": -1}, "escalation_steps_out_of_order"),
    ("acknowledge", "yellow", {"offset_minutes": 15}, "escalation_steps_out_of_order"),  # = red
    ("acknowledge", "red", {"offset_minutes": 31}, "escalation_steps_out_of_order"),     # after leadership
    ("resolve", "leadership", {"offset_minutes": 100}, "escalation_steps_out_of_order"),  # before red
    # Disabled steps keep their place: switching red off does not free yellow to pass it.
    ("arrive", "yellow", {"offset_minutes": 20, "is_enabled": False}, "escalation_steps_out_of_order"),
    ("resolve", "red", {"recipients": []}, "validation_error"),
    ("resolve", "red", {"recipients": ["mayor"]}, "validation_error"),
    ("resolve", "red", {"offset_minutes": 60 * 24 * 31}, "validation_error"),
])
def test_steps_out_of_order_or_to_nobody_are_refused(client, sql, office, clock, step, body, error):
    tenant, headers, _, steps = office
    before = policy_rows(sql, tenant.id)
    response = client.patch(f"/api/v1/t/{tenant.code}/time-limits/escalation-steps/{steps[(clock, step)]}",
                            headers=headers, json=body)
    assert_error(response, 422, error)
    assert policy_rows(sql, tenant.id) == before


def test_leadership_may_be_told_together_with_the_red_step(client, office):
    tenant, headers, _, steps = office
    response = client.patch(f"/api/v1/t/{tenant.code}/time-limits/escalation-steps/"
                            f"{steps[('acknowledge', 'leadership')]}", headers=headers, json={"offset_minutes": 15})
    assert response.status_code == 200, response.get_json()


def test_unknown_ids_and_another_tenants_ids_are_not_found(client, factory, office):
    tenant, headers, cells, steps = office
    other = factory.tenant("110105", "朝阳区")
    other_headers = auth(client, factory.user(other, "tenant_admin"))
    for url, error in ((f"/api/v1/t/{other.code}/time-limits/defaults/{cells[('standard', 'general')]}",
                        "time_limit_not_found"),
                       (f"/api/v1/t/{other.code}/time-limits/escalation-steps/{steps[('resolve', 'red')]}",
                        "escalation_step_not_found"),
                       (f"/api/v1/t/{tenant.code}/time-limits/defaults/987654321", None)):
        own_headers = headers if tenant.code in url else other_headers
        assert_error(client.patch(url, headers=own_headers, json={}), 404, error)


def test_the_database_refuses_what_the_service_refuses(sql, factory):
    tenant = factory.tenant()
    with pytest.raises(IntegrityError, match="one_resolve_unit"):
        sql("UPDATE time_limit_defaults SET resolve_hours = 24, resolve_working_days = 5 "
            "WHERE tenant_id = :t AND duty_class = 'standard' AND severity = 'general'", t=tenant.id)
    with pytest.raises(IntegrityError, match="resolve_positive"):
        sql("UPDATE time_limit_defaults SET resolve_working_days = 0 "
            "WHERE tenant_id = :t AND duty_class = 'standard' AND severity = 'general'", t=tenant.id)
    with pytest.raises(IntegrityError, match="only_warnings_precede"):
        sql("UPDATE escalation_steps SET offset_minutes = 0 WHERE tenant_id = :t AND step = 'warning'",
            t=tenant.id)
    with pytest.raises(IntegrityError, match="recipients_known"):
        sql("UPDATE escalation_steps SET recipients = ARRAY['mayor'] WHERE tenant_id = :t", t=tenant.id)
