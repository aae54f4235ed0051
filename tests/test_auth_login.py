"""Login: what a correct, a wrong and a repeated wrong password each get, and what is recorded."""
from __future__ import annotations

from tests.factories import assert_error, client_from, login


def test_login_returns_tokens_and_the_user(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher", username="13800000001")

    body = login(client, desk)

    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] and body["refresh_token"]
    assert body["user"]["username"] == "13800000001"
    assert body["user"]["roles"] == ["dispatcher"]
    assert body["user"]["tenant"]["code"] == "620602"
    assert "password" not in body["user"] and "password_hash" not in body["user"]


def test_username_is_case_and_space_insensitive(client, factory):
    tenant = factory.tenant()
    factory.user(tenant, "dispatcher", username="desk.one")

    response = client.post("/api/v1/auth/login", json={"username": "  Desk.One ", "password": "Test-pass-1"})

    assert response.status_code == 200


def test_wrong_password_is_401_with_the_uniform_body_and_is_audited(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")

    response = client.post("/api/v1/auth/login", json={"username": desk.username, "password": "nope-123"})

    assert_error(response, 401, "invalid_credentials")
    rows = sql("SELECT action, after FROM audit_events WHERE tenant_id = :t AND action = 'auth.login_failed'",
               t=tenant.id)
    assert [(row.action, row.after["reason"]) for row in rows] == [("auth.login_failed", "wrong_password")]
    assert sql("SELECT failed_login_count FROM users WHERE id = :u", u=desk.id)[0][0] == 1


def test_unknown_username_is_the_same_401_and_lands_on_the_platform_chain(client, factory, sql):
    factory.tenant()

    response = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "whatever-1"})

    assert_error(response, 401, "invalid_credentials")
    rows = sql("SELECT actor_username, after FROM platform_audit_events WHERE action = 'auth.login_failed'")
    assert [(row.actor_username, row.after["reason"]) for row in rows] == [("ghost", "unknown_username")]


def test_successful_login_is_audited_and_resets_the_failure_count(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    client.post("/api/v1/auth/login", json={"username": desk.username, "password": "nope-123"})

    login(client, desk)

    assert sql("SELECT failed_login_count FROM users WHERE id = :u", u=desk.id)[0][0] == 0
    actions = [row.action for row in sql(
        "SELECT action FROM audit_events WHERE tenant_id = :t AND actor_user_id = :u ORDER BY seq",
        t=tenant.id, u=desk.id)]
    assert actions == ["auth.login_failed", "auth.login_succeeded"]


def test_lockout_after_repeated_failures_even_with_the_right_password(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    for _ in range(5):
        assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": "bad-pass-1"}),
                     401, "invalid_credentials")

    response = client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password})

    assert_error(response, 423, "account_locked")
    assert int(response.headers["Retry-After"]) > 14 * 60
    assert sql("SELECT locked_until IS NOT NULL FROM users WHERE id = :u", u=desk.id)[0][0]


def test_lockout_ends_when_its_time_has_passed(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    sql("UPDATE users SET locked_until = now() - interval '1 second' WHERE id = :u", u=desk.id)

    assert login(client, desk)["user"]["id"] == desk.id


def test_disabled_account_cannot_log_in(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    sql("UPDATE users SET is_active = false WHERE id = :u", u=desk.id)

    response = client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password})

    assert_error(response, 403, "account_disabled")


def test_suspended_district_cannot_log_in(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    sql("UPDATE tenants SET status = 'suspended' WHERE id = :t", t=tenant.id)

    response = client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password})

    assert_error(response, 403, "tenant_suspended")


def test_login_is_rate_limited_per_address(app, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    client = client_from(app, "192.0.2.77")
    statuses = [client.post("/api/v1/auth/login", json={"username": f"nobody{i}", "password": "x-1234567"}).status_code
                for i in range(21)]

    assert statuses[:20] == [401] * 20
    assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password}),
                 429, "rate_limited")
    other = client_from(app, "192.0.2.78")
    assert other.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password}).status_code == 200


def test_provincial_supervisor_logs_in_without_a_tenant(client, factory):
    factory.tenant()
    supervisor = factory.user(None, "provincial_supervisor", province_code="620000")

    body = login(client, supervisor)

    assert body["user"]["tenant"] is None
    assert body["user"]["province_code"] == "620000"
