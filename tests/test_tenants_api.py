"""Platform admins provision and suspend districts; provincial supervisors see their province's."""
from __future__ import annotations

from tests.factories import assert_error, auth


def test_platform_admin_provisions_a_district_from_the_template(client, factory, sql):
    admin = factory.user(None, "platform_admin")

    response = client.post("/api/v1/tenants", headers=auth(client, admin),
                           json={"code": "620602", "name": "凉州区", "template": "liangzhou"})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["province_code"] == "620000"
    assert sql("SELECT count(*) FROM units u JOIN tenants t ON t.id = u.tenant_id WHERE t.code = '620602'")[0][0] == 31
    assert sql("SELECT count(*) FROM platform_audit_events WHERE action = 'tenant.created'")[0][0] == 1


def test_a_duplicate_district_code_is_409(client, factory):
    factory.tenant()
    admin = factory.user(None, "platform_admin")

    response = client.post("/api/v1/tenants", headers=auth(client, admin), json={"code": "620602", "name": "again"})

    assert_error(response, 409, "tenant_exists")


def test_suspending_a_district_locks_its_users_out_and_is_audited_on_both_chains(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    desk_headers = auth(client, desk)
    admin = factory.user(None, "platform_admin")

    response = client.patch("/api/v1/tenants/620602", headers=auth(client, admin), json={"status": "suspended"})

    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    assert_error(client.get("/api/v1/t/620602", headers=desk_headers), 403, "tenant_suspended")
    assert sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t AND action = 'tenant.updated'",
               t=tenant.id)[0][0] == 1
    assert sql("SELECT count(*) FROM platform_audit_events WHERE action = 'tenant.updated'")[0][0] == 1


def test_provincial_supervisor_lists_only_their_province_and_reads_its_profiles(client, factory):
    factory.tenant("620602", "凉州区")
    factory.tenant("620102", "城关区", template=None)
    factory.tenant("110105", "朝阳区", template=None)
    supervisor = factory.user(None, "provincial_supervisor", province_code="620000")
    headers = auth(client, supervisor)

    listed = client.get("/api/v1/tenants", headers=headers).get_json()

    assert [t["code"] for t in listed] == ["620102", "620602"]
    assert client.get("/api/v1/t/620102", headers=headers).status_code == 200
    assert_error(client.get("/api/v1/t/110105", headers=headers), 404, "tenant_not_found")
    assert_error(client.patch("/api/v1/t/620602", headers=headers, json={}), 403, "read_only")


def test_unknown_time_zone_is_refused(client, factory):
    admin = factory.user(None, "platform_admin")

    response = client.post("/api/v1/tenants", headers=auth(client, admin),
                           json={"code": "620602", "name": "凉州区", "time_zone": "Mars/Olympus"})

    assert_error(response, 422, "unknown_time_zone")
