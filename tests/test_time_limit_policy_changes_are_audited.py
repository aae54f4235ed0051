"""The linkage office changes its policy cell by cell and step by step; each change is audited."""
from __future__ import annotations

import pytest

from tests.factories import assert_error, auth


@pytest.fixture
def office(client, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    policy = client.get(f"/api/v1/t/{tenant.code}/time-limits", headers=headers).get_json()
    return tenant, admin, headers, policy


def cell_id(policy, duty_class, severity) -> int:
    return next(c["id"] for c in policy["defaults"] if (c["duty_class"], c["severity"]) == (duty_class, severity))


def step_id(policy, clock, step) -> int:
    return next(s["id"] for s in policy["escalation_steps"] if (s["clock"], s["step"]) == (clock, step))


def audit_events(sql, tenant_id, action):
    return sql("SELECT actor_user_id, target_type, target_id, before, after FROM audit_events "
               "WHERE tenant_id = :t AND action = :a ORDER BY seq", t=tenant_id, a=action)


def test_changing_a_cell_is_audited_with_before_and_after(client, sql, office):
    tenant, admin, headers, policy = office
    cell = cell_id(policy, "standard", "general")
    response = client.patch(f"/api/v1/t/{tenant.code}/time-limits/defaults/{cell}", headers=headers,
                            json={"ack_minutes": 15, "arrive_minutes": {"rural": 150}})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ack_minutes"] == 15
    assert body["arrive_minutes"] == {"urban": 60, "suburban": 90, "rural": 150}
    (actor, target_type, target_id, before, after), = audit_events(sql, tenant.id, "time_limit.updated")
    assert (actor, target_type, target_id) == (admin.id, "time_limit_default", str(cell))
    assert before["ack_minutes"] == 20 and after["ack_minutes"] == 15
    assert before["arrive_minutes"]["rural"] == 120 and after["arrive_minutes"]["rural"] == 150
    assert after["duty_class"] == "standard" and after["severity"] == "general"


def test_giving_the_other_resolve_unit_switches_the_cell(client, sql, office):
    tenant, _, headers, policy = office
    cell = cell_id(policy, "standard", "general")
    url = f"/api/v1/t/{tenant.code}/time-limits/defaults/{cell}"
    body = client.patch(url, headers=headers, json={"resolve_hours": 48}).get_json()
    assert (body["resolve_hours"], body["resolve_working_days"]) == (48, None)
    body = client.patch(url, headers=headers, json={"resolve_hours": None, "resolve_working_days": 4}).get_json()
    assert (body["resolve_hours"], body["resolve_working_days"]) == (None, 4)
    assert sql("SELECT resolve_hours, resolve_working_days FROM time_limit_defaults WHERE id = :c",
               c=cell) == [(None, 4)]
    assert len(audit_events(sql, tenant.id, "time_limit.updated")) == 2


def test_changing_a_step_is_audited_with_before_and_after(client, sql, office):
    tenant, admin, headers, policy = office
    red = step_id(policy, "resolve", "red")
    response = client.patch(f"/api/v1/t/{tenant.code}/time-limits/escalation-steps/{red}", headers=headers,
                            json={"offset_minutes": 240, "recipients": ["office", "unit_leader", "office"],
                                  "is_enabled": False})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    # Duplicates dropped, recipients kept in their canonical order.
    assert (body["offset_minutes"], body["recipients"], body["is_enabled"]) == (240, ["unit_leader", "office"],
                                                                                False)
    (actor, target_type, target_id, before, after), = audit_events(sql, tenant.id, "escalation_step.updated")
    assert (actor, target_type, target_id) == (admin.id, "escalation_step", str(red))
    assert before == {"clock": "resolve", "step": "red", "offset_minutes": 480,
                      "recipients": ["unit_leader", "office"], "is_enabled": True}
    assert after == {**before, "offset_minutes": 240, "is_enabled": False}


def test_a_change_that_changes_nothing_writes_no_audit_event(client, sql, office):
    tenant, _, headers, policy = office
    cell = cell_id(policy, "emergency", "major")
    assert client.patch(f"/api/v1/t/{tenant.code}/time-limits/defaults/{cell}", headers=headers,
                        json={"ack_minutes": 5}).status_code == 200
    warning = step_id(policy, "acknowledge", "warning")
    assert client.patch(f"/api/v1/t/{tenant.code}/time-limits/escalation-steps/{warning}", headers=headers,
                        json={}).status_code == 200
    assert audit_events(sql, tenant.id, "time_limit.updated") == []
    assert audit_events(sql, tenant.id, "escalation_step.updated") == []


def test_only_the_linkage_office_changes_the_policy(client, factory, sql, office):
    tenant, _, _, policy = office
    cell = cell_id(policy, "standard", "general")
    dispatcher = factory.user(tenant, "dispatcher")
    supervisor = factory.user(None, "provincial_supervisor", province_code=tenant.province_code)
    url = f"/api/v1/t/{tenant.code}/time-limits/defaults/{cell}"
    assert_error(client.patch(url, headers=auth(client, dispatcher), json={"ack_minutes": 1}), 403, "forbidden")
    assert_error(client.patch(url, headers=auth(client, supervisor), json={"ack_minutes": 1}), 403, "read_only")
    assert sql("SELECT ack_minutes FROM time_limit_defaults WHERE id = :c", c=cell) == [(20,)]
