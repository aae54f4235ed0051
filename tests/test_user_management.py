"""The linkage office (tenant_admin) manages its district's users and profile through the API."""
from __future__ import annotations

import json

import pytest

from app.common.roles import TENANT_ROLES, UNIT_ROLES
from tests.factories import (PASSWORD, assert_error, auth, database_snapshot, login,
                             snapshot_difference)


@pytest.fixture
def district(factory):
    return factory.tenant()


@pytest.fixture
def admin(factory, district):
    return factory.user(district, "tenant_admin", username="admin.office")


@pytest.fixture
def admin_headers(client, admin):
    return auth(client, admin)


def users_url(district, *parts) -> str:
    return "/".join([f"/api/v1/t/{district.code}/users", *(str(part) for part in parts)])


def new_user(username: str, roles: list[str], **extra) -> dict:
    return {"username": username, "display_name": extra.pop("display_name", username),
            "password": extra.pop("password", "Good-pass-9"), "roles": roles, **extra}


def assert_unchanged(owner_engine, before):
    after = database_snapshot(owner_engine)
    assert after == before, "the database changed:\n" + snapshot_difference(before, after)


def audit_rows(sql, district, action: str):
    return sql("SELECT actor_user_id, target_type, target_id, before, after FROM audit_events "
               "WHERE tenant_id = :t AND action = :a ORDER BY seq", t=district.id, a=action)


# --- creating users ---------------------------------------------------------------------------

def test_the_office_creates_a_user_for_every_tenant_role_and_each_can_log_in(
        client, factory, district, admin, admin_headers, sql):
    unit_id = factory.unit_id(district, "建设")
    for role in sorted(TENANT_ROLES):
        is_unit_role = role in UNIT_ROLES
        body = new_user(f"user.{role.value}", [role.value], display_name=f"用户{role.value}",
                        phone="13800000000", unit_id=unit_id if is_unit_role else None)

        response = client.post(users_url(district), json=body, headers=admin_headers)

        assert response.status_code == 201, response.get_json()
        created = response.get_json()
        assert created["username"] == f"user.{role.value}"
        assert created["roles"] == [role.value]
        assert created["is_active"] is True
        assert created["tenant"]["code"] == district.code
        assert "password" not in created and "password_hash" not in created
        if is_unit_role:
            assert created["unit"] == {"id": unit_id, "name": "区建设局", "short_name": "建设"}
        else:
            assert created["unit"] is None
        assert login(client, created["username"], "Good-pass-9")["user"]["id"] == created["id"]
        [event] = sql("SELECT actor_user_id, after FROM audit_events WHERE tenant_id = :t "
                      "AND action = 'user.created' AND target_id = :id", t=district.id, id=str(created["id"]))
        assert event.actor_user_id == admin.id
        assert event.after["username"] == created["username"] and event.after["roles"] == [role.value]


def test_a_unit_role_without_a_unit_is_422_unit_required(client, district, admin_headers, owner_engine):
    before = database_snapshot(owner_engine)

    response = client.post(users_url(district), json=new_user("li.si", ["responder"]), headers=admin_headers)

    assert "unit_id" in assert_error(response, 422, "unit_required")["errors"]
    assert_unchanged(owner_engine, before)


def test_a_unit_of_another_district_is_422_unit_not_found(client, factory, district, admin_headers, sql,
                                                          owner_engine):
    minqin = factory.tenant("620621", "民勤县")
    foreign_unit = factory.unit_id(minqin, "建设")
    assert sql("SELECT count(*) FROM units WHERE tenant_id = :t AND id = :u", t=district.id, u=foreign_unit)[0][0] == 0
    before = database_snapshot(owner_engine)

    response = client.post(users_url(district), json=new_user("li.si", ["responder"], unit_id=foreign_unit),
                           headers=admin_headers)

    assert "unit_id" in assert_error(response, 422, "unit_not_found")["errors"]
    assert_unchanged(owner_engine, before)


def test_a_non_unit_role_with_a_unit_is_422_unit_not_allowed(client, factory, district, admin_headers,
                                                            owner_engine):
    unit_id = factory.unit_id(district)
    before = database_snapshot(owner_engine)

    for roles in (["dispatcher"], ["leader"], ["tenant_admin"]):
        response = client.post(users_url(district), json=new_user("zhang.san", roles, unit_id=unit_id),
                               headers=admin_headers)
        assert "unit_id" in assert_error(response, 422, "unit_not_allowed")["errors"]

    assert_unchanged(owner_engine, before)


def test_a_taken_username_is_409_username_taken_whatever_its_case_or_district(
        client, factory, district, admin_headers, owner_engine):
    factory.user(district, "dispatcher", username="zhang.san")
    factory.user(factory.tenant("620621", "民勤县"), "dispatcher", username="wang.wu")
    before = database_snapshot(owner_engine)

    for username in ("zhang.san", "Zhang.San", "wang.wu"):
        response = client.post(users_url(district), json=new_user(username, ["dispatcher"]), headers=admin_headers)
        assert "username" in assert_error(response, 409, "username_taken")["errors"]

    assert_unchanged(owner_engine, before)


@pytest.mark.parametrize("roles", [["platform_admin"], ["provincial_supervisor"], ["dispatcher", "platform_admin"]])
def test_platform_roles_cannot_be_given_to_a_district_user_422(client, factory, district, admin_headers,
                                                             owner_engine, roles):
    desk = factory.user(district, "dispatcher")
    before = database_snapshot(owner_engine)

    created = client.post(users_url(district), json=new_user("zhang.san", roles), headers=admin_headers)
    changed = client.patch(users_url(district, desk.id), json={"roles": roles}, headers=admin_headers)

    for response in (created, changed):
        assert "roles" in assert_error(response, 422)["errors"]
    assert_unchanged(owner_engine, before)


@pytest.mark.parametrize("password", ["Ab-1", "12345678901", "onlyletters"],
                         ids=["too-short", "digits-only", "letters-only"])
def test_a_weak_password_is_422_weak_password_on_create_and_on_reset(client, factory, district, admin_headers,
                                                                    owner_engine, password):
    desk = factory.user(district, "dispatcher")
    before = database_snapshot(owner_engine)

    created = client.post(users_url(district), json=new_user("zhang.san", ["dispatcher"], password=password),
                          headers=admin_headers)
    reset = client.post(users_url(district, desk.id, "password"), json={"new_password": password},
                        headers=admin_headers)

    assert_error(created, 422, "weak_password")
    assert_error(reset, 422, "weak_password")
    assert_unchanged(owner_engine, before)
    assert login(client, desk)["user"]["id"] == desk.id  # the old password still works


def test_a_weak_password_is_reported_under_the_field_the_client_sent(client, factory, district, admin_headers):
    desk = factory.user(district, "dispatcher")

    created = client.post(users_url(district), json=new_user("zhang.san", ["dispatcher"], password="12345678901"),
                          headers=admin_headers)
    reset = client.post(users_url(district, desk.id, "password"), json={"new_password": "12345678901"},
                        headers=admin_headers)
    own = client.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "Ab-1xyz"},
                      headers=auth(client, desk))

    assert set(assert_error(created, 422, "weak_password")["errors"]) == {"password"}
    assert set(assert_error(reset, 422, "weak_password")["errors"]) == {"new_password"}
    assert set(assert_error(own, 422, "weak_password")["errors"]) == {"new_password"}


def test_only_the_linkage_office_manages_users(client, factory, district):
    desk = factory.user(district, "dispatcher")
    headers = auth(client, desk)

    assert_error(client.get(users_url(district), headers=headers), 403, "forbidden")
    assert_error(client.post(users_url(district), json=new_user("zhang.san", ["dispatcher"]), headers=headers),
                 403, "forbidden")
    assert_error(client.patch(users_url(district, desk.id), json={"display_name": "x"}, headers=headers),
                 403, "forbidden")


# --- listing ----------------------------------------------------------------------------------

@pytest.fixture
def staff(factory, district, admin):
    """Four users besides the admin, with Chinese names, phones, units and one inactive."""
    jianshe, minzheng = factory.unit_id(district, "建设"), factory.unit_id(district, "民政")
    people = {
        "zhang.san": factory.user(district, "dispatcher", username="zhang.san"),
        "li.si": factory.user(district, "responder", username="li.si", unit_id=jianshe),
        "wang.wu": factory.user(district, "responder", username="wang.wu", unit_id=minzheng),
        "zhao.liu": factory.user(district, "leader", username="zhao.liu"),
    }
    return people, {"建设": jianshe, "民政": minzheng}


def _name_staff(sql, people):
    names = {"zhang.san": ("张三丰", "13800000001"), "li.si": ("李四", None),
             "wang.wu": ("王五", "13800000003"), "zhao.liu": ("赵六", "13900000002")}
    for username, (display_name, phone) in names.items():
        sql("UPDATE users SET display_name = :d, phone = :p WHERE username = :u", d=display_name, p=phone, u=username)
    sql("UPDATE users SET is_active = false WHERE username = 'wang.wu'")


def listed(client, district, headers, **query) -> list[str]:
    response = client.get(users_url(district), query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [user["username"] for user in response.get_json()]


def test_the_list_is_paginated_with_an_x_pagination_header(client, district, admin_headers, staff, sql):
    _name_staff(sql, staff[0])

    first = client.get(users_url(district), query_string={"page": 1, "page_size": 2}, headers=admin_headers)
    last = client.get(users_url(district), query_string={"page": 3, "page_size": 2}, headers=admin_headers)
    beyond = client.get(users_url(district), query_string={"page": 4, "page_size": 2}, headers=admin_headers)

    assert [u["username"] for u in first.get_json()] == ["admin.office", "li.si"]
    assert json.loads(first.headers["X-Pagination"]) == {
        "total": 5, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 1, "next_page": 2}
    assert [u["username"] for u in last.get_json()] == ["zhao.liu"]
    assert json.loads(last.headers["X-Pagination"]) == {
        "total": 5, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 3, "previous_page": 2}
    assert beyond.status_code == 200 and beyond.get_json() == []


def test_the_list_filters_by_role_unit_active_flag_and_search_string(client, factory, district, admin_headers,
                                                                    staff, sql):
    people, units = staff
    _name_staff(sql, people)
    factory.user(factory.tenant("620621", "民勤县"), "responder", username="other.district")

    assert listed(client, district, admin_headers) == ["admin.office", "li.si", "wang.wu", "zhang.san", "zhao.liu"]
    assert listed(client, district, admin_headers, role="responder") == ["li.si", "wang.wu"]
    assert listed(client, district, admin_headers, unit_id=units["建设"]) == ["li.si"]
    assert listed(client, district, admin_headers, is_active="false") == ["wang.wu"]
    assert listed(client, district, admin_headers, is_active="true", role="responder") == ["li.si"]
    assert listed(client, district, admin_headers, q="三丰") == ["zhang.san"]  # a Chinese name, in part
    assert listed(client, district, admin_headers, q="赵") == ["zhao.liu"]
    assert listed(client, district, admin_headers, q="ZHANG") == ["zhang.san"]  # case-insensitive
    assert listed(client, district, admin_headers, q="13900") == ["zhao.liu"]  # the phone
    # LIKE wildcards are literal characters.
    assert listed(client, district, admin_headers, q="%") == []
    assert listed(client, district, admin_headers, q="_") == []


def test_the_list_sorts_by_username_name_or_creation(client, district, admin_headers, staff, sql):
    _name_staff(sql, staff[0])
    by_name = [row.username for row in sql(
        "SELECT username FROM users WHERE tenant_id = :t ORDER BY display_name, id", t=district.id)]

    assert listed(client, district, admin_headers, sort="-username") == [
        "zhao.liu", "zhang.san", "wang.wu", "li.si", "admin.office"]
    assert listed(client, district, admin_headers, sort="display_name") == by_name
    assert listed(client, district, admin_headers, sort="-display_name") == by_name[::-1]
    assert listed(client, district, admin_headers, sort="created_at") == [
        "admin.office", "zhang.san", "li.si", "wang.wu", "zhao.liu"]
    assert_error(client.get(users_url(district), query_string={"sort": "password_hash"}, headers=admin_headers),
                 422, "validation_error")


def test_get_one_user_and_404_for_another_districts_user_or_none(client, factory, district, admin_headers):
    desk = factory.user(district, "dispatcher", username="zhang.san")
    stranger = factory.user(factory.tenant("620621", "民勤县"), "dispatcher")

    response = client.get(users_url(district, desk.id), headers=admin_headers)

    assert response.status_code == 200
    assert response.get_json()["username"] == "zhang.san"
    assert response.get_json()["roles"] == ["dispatcher"]
    assert_error(client.get(users_url(district, stranger.id), headers=admin_headers), 404, "user_not_found")
    assert_error(client.get(users_url(district, 987654321), headers=admin_headers), 404, "user_not_found")


# --- changing users ---------------------------------------------------------------------------

def test_patch_changes_name_phone_roles_and_unit_and_audits_before_and_after(
        client, factory, district, admin, admin_headers, sql):
    jianshe, minzheng = factory.unit_id(district, "建设"), factory.unit_id(district, "民政")
    worker = factory.user(district, "responder", username="li.si", unit_id=jianshe)

    response = client.patch(users_url(district, worker.id), headers=admin_headers, json={
        "display_name": "李四", "phone": "13700000000", "roles": ["unit_liaison", "responder"],
        "unit_id": minzheng})

    assert response.status_code == 200, response.get_json()
    changed = response.get_json()
    assert (changed["display_name"], changed["phone"], changed["roles"], changed["unit"]["short_name"]) == (
        "李四", "13700000000", ["responder", "unit_liaison"], "民政")
    [event] = audit_rows(sql, district, "user.updated")
    assert (event.actor_user_id, event.target_type, event.target_id) == (admin.id, "user", str(worker.id))
    assert event.before == {"username": "li.si", "display_name": "li.si", "phone": None,
                            "roles": ["responder"], "unit_id": jianshe, "is_active": True}
    assert event.after == {"username": "li.si", "display_name": "李四", "phone": "13700000000",
                           "roles": ["responder", "unit_liaison"], "unit_id": minzheng, "is_active": True}
    stored = sql("SELECT display_name, phone, roles, unit_id FROM users WHERE id = :u", u=worker.id)[0]
    assert tuple(stored) == ("李四", "13700000000", ["responder", "unit_liaison"], minzheng)


def test_leaving_unit_roles_leaves_the_unit(client, factory, district, admin_headers, sql):
    worker = factory.user(district, "responder", username="li.si")

    response = client.patch(users_url(district, worker.id), json={"roles": ["dispatcher"]}, headers=admin_headers)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["unit"] is None
    assert sql("SELECT unit_id FROM users WHERE id = :u", u=worker.id)[0][0] is None


def test_patch_to_another_districts_unit_is_422_unit_not_found(client, factory, district, admin_headers,
                                                               owner_engine):
    worker = factory.user(district, "responder")
    foreign_unit = factory.unit_id(factory.tenant("620621", "民勤县"), "民政")
    before = database_snapshot(owner_engine)

    response = client.patch(users_url(district, worker.id), json={"unit_id": foreign_unit}, headers=admin_headers)

    assert_error(response, 422, "unit_not_found")
    assert_unchanged(owner_engine, before)


def test_a_patch_that_changes_nothing_writes_no_audit_event(client, factory, district, admin_headers, sql):
    desk = factory.user(district, "dispatcher", username="zhang.san")

    response = client.patch(users_url(district, desk.id), json={"display_name": "zhang.san", "roles": ["dispatcher"]},
                            headers=admin_headers)

    assert response.status_code == 200
    assert audit_rows(sql, district, "user.updated") == []


def test_deactivation_ends_the_users_sessions_at_once_and_blocks_login(client, factory, district, admin_headers, sql):
    desk = factory.user(district, "dispatcher")
    tokens = login(client, desk)
    own = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=own).status_code == 200

    response = client.patch(users_url(district, desk.id), json={"is_active": False}, headers=admin_headers)

    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert_error(client.get("/api/v1/auth/me", headers=own), 401, "token_revoked")
    assert_error(client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}),
                 401, "token_revoked")
    assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password}),
                 403, "account_disabled")
    assert [row.revoked_reason for row in sql(
        "SELECT revoked_reason FROM token_families WHERE user_id = :u", u=desk.id)] == ["deactivated"]
    [event] = audit_rows(sql, district, "user.updated")
    assert (event.before["is_active"], event.after["is_active"]) == (True, False)


def test_a_reactivated_user_logs_in_again_but_old_tokens_stay_dead(client, factory, district, admin_headers):
    desk = factory.user(district, "dispatcher")
    old = {"Authorization": f"Bearer {login(client, desk)['access_token']}"}
    client.patch(users_url(district, desk.id), json={"is_active": False}, headers=admin_headers)

    response = client.patch(users_url(district, desk.id), json={"is_active": True}, headers=admin_headers)

    assert response.status_code == 200
    assert login(client, desk)["user"]["id"] == desk.id
    assert_error(client.get("/api/v1/auth/me", headers=old), 401, "token_revoked")


def test_an_admin_cannot_deactivate_themself_409(client, district, admin, admin_headers, owner_engine):
    before = database_snapshot(owner_engine)

    response = client.patch(users_url(district, admin.id), json={"is_active": False}, headers=admin_headers)

    assert_error(response, 409, "cannot_deactivate_self")
    assert_unchanged(owner_engine, before)
    assert client.get("/api/v1/auth/me", headers=admin_headers).status_code == 200


def test_an_admin_cannot_drop_their_own_admin_role_409_but_may_add_roles(client, district, admin, admin_headers,
                                                                         owner_engine):
    before = database_snapshot(owner_engine)

    response = client.patch(users_url(district, admin.id), json={"roles": ["dispatcher"]}, headers=admin_headers)

    assert_error(response, 409, "cannot_drop_own_admin")
    assert_unchanged(owner_engine, before)
    widened = client.patch(users_url(district, admin.id), json={"roles": ["tenant_admin", "dispatcher"]},
                           headers=admin_headers)
    assert widened.status_code == 200 and widened.get_json()["roles"] == ["dispatcher", "tenant_admin"]


def test_unlock_clears_a_lockout_so_the_user_can_log_in(client, factory, district, admin_headers, sql):
    desk = factory.user(district, "dispatcher")
    for _ in range(5):
        assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": "bad-pass-1"}),
                     401, "invalid_credentials")
    assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password}),
                 423, "account_locked")

    response = client.patch(users_url(district, desk.id), json={"unlock": True}, headers=admin_headers)

    assert response.status_code == 200 and response.get_json()["locked_until"] is None
    assert sql("SELECT locked_until, failed_login_count FROM users WHERE id = :u", u=desk.id)[0] == (None, 0)
    assert login(client, desk)["user"]["id"] == desk.id
    [event] = audit_rows(sql, district, "user.updated")
    assert event.after["unlocked"] is True


def test_an_admin_password_reset_ends_the_users_sessions_and_only_the_new_password_works(
        client, factory, district, admin, admin_headers, sql):
    desk = factory.user(district, "dispatcher")
    old = {"Authorization": f"Bearer {login(client, desk)['access_token']}"}

    response = client.post(users_url(district, desk.id, "password"), json={"new_password": "Brand-new-7"},
                           headers=admin_headers)

    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.get("/api/v1/auth/me", headers=old), 401, "token_revoked")
    assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": PASSWORD}),
                 401, "invalid_credentials")
    assert login(client, desk.username, "Brand-new-7")["user"]["id"] == desk.id
    [event] = audit_rows(sql, district, "user.password_reset")
    assert (event.actor_user_id, event.target_id) == (admin.id, str(desk.id))
    assert event.before is None and event.after is None  # no password material in the log


def test_patch_and_reset_of_another_districts_user_are_404(client, factory, district, admin_headers, owner_engine):
    stranger = factory.user(factory.tenant("620621", "民勤县"), "dispatcher")
    before = database_snapshot(owner_engine)

    assert_error(client.patch(users_url(district, stranger.id), json={"is_active": False}, headers=admin_headers),
                 404, "user_not_found")
    assert_error(client.post(users_url(district, stranger.id, "password"), json={"new_password": "Brand-new-7"},
                             headers=admin_headers), 404, "user_not_found")
    assert_unchanged(owner_engine, before)


# --- the district's own profile ---------------------------------------------------------------

def test_a_dispatcher_reads_the_districts_profile(client, factory, district):
    desk = factory.user(district, "dispatcher")

    response = client.get(f"/api/v1/t/{district.code}", headers=auth(client, desk))

    assert response.status_code == 200
    profile = response.get_json()
    assert {key: profile[key] for key in ("code", "name", "province_code", "time_zone", "status", "settings")} == {
        "code": "620602", "name": "凉州区", "province_code": "620000", "time_zone": "Asia/Shanghai",
        "status": "active", "settings": {}}


def test_the_office_changes_time_zone_and_settings_and_it_is_audited_with_before_and_after(
        client, district, admin, admin_headers, sql):
    response = client.patch(f"/api/v1/t/{district.code}", headers=admin_headers,
                            json={"time_zone": "Asia/Urumqi", "settings": {"bulletin_period": "quarter"}})

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["time_zone"], response.get_json()["settings"]) == (
        "Asia/Urumqi", {"bulletin_period": "quarter"})
    stored = sql("SELECT time_zone, settings FROM tenants WHERE id = :t", t=district.id)[0]
    assert tuple(stored) == ("Asia/Urumqi", {"bulletin_period": "quarter"})
    [event] = audit_rows(sql, district, "tenant.updated")
    assert (event.actor_user_id, event.target_type, event.target_id) == (admin.id, "tenant", district.code)
    assert (event.before["time_zone"], event.before["settings"]) == ("Asia/Shanghai", {})
    assert (event.after["time_zone"], event.after["settings"]) == ("Asia/Urumqi", {"bulletin_period": "quarter"})
    # A profile change is the district's business: nothing on the platform chain.
    assert sql("SELECT count(*) FROM platform_audit_events WHERE action = 'tenant.updated'")[0][0] == 0


def test_an_unknown_time_zone_is_422_unknown_time_zone_and_changes_nothing(client, district, admin_headers,
                                                                          owner_engine):
    before = database_snapshot(owner_engine)

    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", "Asia/Shanghai "):
        response = client.patch(f"/api/v1/t/{district.code}", json={"time_zone": zone}, headers=admin_headers)
        assert "time_zone" in assert_error(response, 422, "unknown_time_zone")["errors"]

    assert_unchanged(owner_engine, before)


def test_the_office_cannot_rename_or_suspend_its_own_district(client, district, admin_headers, owner_engine):
    before = database_snapshot(owner_engine)

    for field, value in (("name", "新名字"), ("status", "suspended"), ("province_code", "110000")):
        response = client.patch(f"/api/v1/t/{district.code}", json={field: value}, headers=admin_headers)
        assert field in assert_error(response, 422, "validation_error")["errors"]

    assert_unchanged(owner_engine, before)


def test_only_the_office_changes_the_profile(client, factory, district, owner_engine):
    desk_headers = auth(client, factory.user(district, "dispatcher"))
    before = database_snapshot(owner_engine)

    response = client.patch(f"/api/v1/t/{district.code}", json={"time_zone": "Asia/Urumqi"}, headers=desk_headers)

    assert_error(response, 403, "forbidden")
    assert_unchanged(owner_engine, before)


def test_tenant_settings_patch_merges_and_null_removes_a_key(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    client.patch("/api/v1/t/620602", headers=headers, json={"settings": {"a": 1, "b": 2}})

    response = client.patch("/api/v1/t/620602", headers=headers, json={"settings": {"b": None, "c": 3}})

    assert response.get_json()["settings"] == {"a": 1, "c": 3}
    assert sql("SELECT settings FROM tenants WHERE id = :t", t=tenant.id)[0][0] == {"a": 1, "c": 3}
