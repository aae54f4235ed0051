"""Every new tenant starts with the default time-limit policy, and every tenant role may read it."""
from __future__ import annotations

import pytest

from app.blueprints.timelimits.defaults import DEFAULT_LIMITS, DEFAULT_STEPS
from app.common.roles import TENANT_ROLES
from tests.factories import assert_error, auth


@pytest.mark.parametrize("template", ["liangzhou", None])
def test_create_tenant_provisions_every_cell_and_step(factory, sql, template):
    tenant = factory.tenant("620602", "凉州区", template=template)
    cells = sql("SELECT duty_class, severity, ack_minutes, arrive_urban_minutes, arrive_suburban_minutes, "
                "arrive_rural_minutes, resolve_hours, resolve_working_days FROM time_limit_defaults "
                "WHERE tenant_id = :t", t=tenant.id)
    assert {(duty, severity): (ack, (urban, suburban, rural), hours, days)
            for duty, severity, ack, urban, suburban, rural, hours, days in cells} == {
        (duty.value, severity.value): value for (duty, severity), value in DEFAULT_LIMITS.items()}
    steps = sql("SELECT clock, step, offset_minutes, recipients, is_enabled FROM escalation_steps "
                "WHERE tenant_id = :t", t=tenant.id)
    assert {(clock, step): (offset, tuple(recipients)) for clock, step, offset, recipients, _ in steps} == {
        (clock.value, step.value): (offset, tuple(r.value for r in recipients))
        for (clock, step), (offset, recipients) in DEFAULT_STEPS.items()}
    assert all(is_enabled for *_, is_enabled in steps)


def test_every_tenant_role_and_the_provincial_supervisor_read_the_policy(client, factory):
    tenant = factory.tenant()
    readers = [factory.user(tenant, role.value) for role in sorted(TENANT_ROLES)]
    readers.append(factory.user(None, "provincial_supervisor", province_code=tenant.province_code))
    for user in readers:
        response = client.get(f"/api/v1/t/{tenant.code}/time-limits", headers=auth(client, user))
        assert response.status_code == 200, (user.roles, response.get_json())
        body = response.get_json()
        assert body["tenant_code"] == tenant.code and body["time_zone"] == "Asia/Shanghai"
        assert len(body["defaults"]) == 9 and len(body["escalation_steps"]) == 12


def test_the_policy_reads_as_a_grid_in_a_stable_order(client, factory):
    tenant = factory.tenant()
    office = factory.user(tenant, "tenant_admin")
    body = client.get(f"/api/v1/t/{tenant.code}/time-limits", headers=auth(client, office)).get_json()
    assert [(cell["duty_class"], cell["severity"]) for cell in body["defaults"]][:3] == [
        ("emergency", "general"), ("emergency", "urgent"), ("emergency", "major")]
    standard_general = body["defaults"][3]
    assert standard_general == {
        "id": standard_general["id"], "duty_class": "standard", "severity": "general", "ack_minutes": 20,
        "arrive_minutes": {"urban": 60, "suburban": 90, "rural": 120}, "resolve_hours": None,
        "resolve_working_days": 5, "updated_at": standard_general["updated_at"]}
    assert [(step["clock"], step["step"]) for step in body["escalation_steps"]][:4] == [
        ("acknowledge", "warning"), ("acknowledge", "yellow"), ("acknowledge", "red"),
        ("acknowledge", "leadership")]


def test_another_tenants_policy_is_not_found(client, factory):
    own = factory.tenant("620602", "凉州区")
    other = factory.tenant("110105", "朝阳区")
    office = factory.user(own, "tenant_admin")
    assert_error(client.get(f"/api/v1/t/{other.code}/time-limits", headers=auth(client, office)),
                 404, "tenant_not_found")
