"""The operator's command line: tenants and users."""
from __future__ import annotations

from tests.factories import login


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_tenants_create_with_the_liangzhou_template(app, sql):
    result = invoke(app, "tenants", "create", "--code", "620602", "--name", "凉州区", "--template", "liangzhou")

    assert result.exit_code == 0, result.output
    tenant = sql("SELECT id, name, province_code, time_zone, status FROM tenants WHERE code = '620602'")[0]
    assert (tenant.name, tenant.province_code, tenant.time_zone, tenant.status) == (
        "凉州区", "620000", "Asia/Shanghai", "active")
    units = sql("SELECT short_name, duty_class, kind FROM units WHERE tenant_id = :t", t=tenant.id)
    assert len(units) == 31  # Article 7: 29 sections, 电信、移动、联通 are three units
    assert ("公安", "emergency", "police") in units
    assert ("民政", "standard", "linkage") in units


def test_tenants_create_refuses_a_duplicate_code(app):
    invoke(app, "tenants", "create", "--code", "620602", "--name", "凉州区")

    result = invoke(app, "tenants", "create", "--code", "620602", "--name", "again")

    assert result.exit_code != 0
    assert "tenant_exists" in result.output


def test_tenants_create_refuses_a_bad_code(app, sql):
    result = invoke(app, "tenants", "create", "--code", "62060", "--name", "x")

    assert result.exit_code != 0
    assert sql("SELECT count(*) FROM tenants")[0][0] == 0


def test_tenants_list(app):
    invoke(app, "tenants", "create", "--code", "620602", "--name", "凉州区")
    invoke(app, "tenants", "create", "--code", "110105", "--name", "朝阳区")

    result = invoke(app, "tenants", "list")

    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "110105\t朝阳区\t110000\tAsia/Shanghai\tactive",
        "620602\t凉州区\t620000\tAsia/Shanghai\tactive",
    ]


def test_users_create_for_a_district_then_log_in(app, client, factory):
    tenant = factory.tenant()
    unit_id = factory.unit_id(tenant, "供电")

    result = invoke(app, "users", "create", "--tenant", tenant.code, "--username", "13900000000",
                    "--password", "Power-2026", "--role", "unit_liaison", "--unit", str(unit_id))

    assert result.exit_code == 0, result.output
    user = login(client, "13900000000", "Power-2026")["user"]
    assert user["roles"] == ["unit_liaison"] and user["unit"]["short_name"] == "供电"


def test_users_create_a_provincial_supervisor(app, client):
    result = invoke(app, "users", "create", "--province", "620000", "--username", "gansu",
                    "--password", "Gansu-2026", "--role", "provincial_supervisor")

    assert result.exit_code == 0, result.output
    assert login(client, "gansu", "Gansu-2026")["user"]["province_code"] == "620000"


def test_users_create_refuses_a_unit_role_without_a_unit(app, factory, sql):
    factory.tenant()

    result = invoke(app, "users", "create", "--tenant", "620602", "--username", "crew",
                    "--password", "Crew-2026x", "--role", "responder")

    assert result.exit_code != 0
    assert "unit_required" in result.output
    assert sql("SELECT count(*) FROM users")[0][0] == 0


def test_users_create_refuses_tenant_roles_without_a_tenant(app, sql):
    result = invoke(app, "users", "create", "--username", "desk", "--password", "Desk-2026x", "--role", "dispatcher")

    assert result.exit_code != 0
    assert "tenant_required" in result.output


def test_demo_seed_is_idempotent(app, client, sql):
    first = invoke(app, "demo", "seed")
    second = invoke(app, "demo", "seed")

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert first.output == second.output
    assert sql("SELECT count(*) FROM users")[0][0] == 29  # 5 district and platform users, 6 unit teams of 4
    assert sql("SELECT array_agg(DISTINCT r ORDER BY r) FROM users, unnest(roles) r")[0][0] == sorted(
        ["platform_admin", "provincial_supervisor", "tenant_admin", "dispatcher", "leader",
         "unit_liaison", "unit_leader", "responder"])
    assert login(client, "office", "Liandong-2026")["user"]["tenant"]["code"] == "620602"
