"""Tokens: what is refused (expired, tampered, revoked, replayed) and what survives a Redis restart."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

from flask_jwt_extended import create_access_token

from tests.factories import assert_error, login


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_access_token_opens_me(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")

    response = client.get("/api/v1/auth/me", headers=bearer(login(client, desk)["access_token"]))

    assert response.status_code == 200
    assert response.get_json()["username"] == desk.username


def test_missing_token_is_401(client, factory):
    assert_error(client.get("/api/v1/auth/me"), 401, "unauthorized")


def test_expired_token_is_refused(app, client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    family = login(client, desk)  # a real family, so only the expiry is wrong
    claims = _claims(family["access_token"])
    with app.app_context():
        expired = create_access_token(identity=claims["sub"], expires_delta=timedelta(seconds=-60),
                                      additional_claims={k: claims[k] for k in ("tv", "fam", "tid", "roles")})

    assert_error(client.get("/api/v1/auth/me", headers=bearer(expired)), 401, "token_expired")


def test_tampered_token_is_refused(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    admin = factory.user(tenant, "tenant_admin")
    token = login(client, desk)["access_token"]
    header, payload, signature = token.split(".")
    claims = _claims(token)
    claims["sub"] = str(admin.id)  # try to become the admin without the key
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])

    assert_error(client.get("/api/v1/auth/me", headers=bearer(forged)), 401, "token_invalid")


def test_token_signed_with_another_key_is_refused(app, client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    claims = _claims(login(client, desk)["access_token"])
    import jwt as pyjwt

    foreign = pyjwt.encode(claims, "not-our-secret-not-our-secret-not-our-secret", algorithm="HS256")

    assert_error(client.get("/api/v1/auth/me", headers=bearer(foreign)), 401, "token_invalid")


def test_refresh_token_is_not_an_access_token(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")

    response = client.get("/api/v1/auth/me", headers=bearer(login(client, desk)["refresh_token"]))

    assert_error(response, 401, "token_invalid")


def test_logout_revokes_the_access_and_refresh_tokens(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    tokens = login(client, desk)

    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])).status_code == 204

    assert_error(client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401, "token_revoked")
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "token_revoked")


def test_logout_ends_only_that_login(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    phone, console = login(client, desk), login(client, desk)

    client.post("/api/v1/auth/logout", headers=bearer(phone["access_token"]))

    assert client.get("/api/v1/auth/me", headers=bearer(console["access_token"])).status_code == 200


def test_revocation_survives_a_redis_flush(client, factory, redis_client):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    tokens = login(client, desk)
    client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"]))

    redis_client.flushall()

    assert_error(client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])), 401, "token_revoked")


def test_refresh_rotates_and_each_refresh_token_works_once(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    first = login(client, desk)

    second = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))

    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200


def test_refresh_reuse_revokes_the_whole_family(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    first = login(client, desk)
    middle = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])).get_json()
    second = client.post("/api/v1/auth/refresh", headers=bearer(middle["refresh_token"])).get_json()

    replay = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))

    assert_error(replay, 401, "refresh_token_reused")
    # The thief's replay ends the legitimate holder's tokens too: both are of one family.
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(second["refresh_token"])), 401, "token_revoked")
    assert_error(client.get("/api/v1/auth/me", headers=bearer(second["access_token"])), 401, "token_revoked")
    assert sql("SELECT revoked_reason FROM token_families WHERE user_id = :u", u=desk.id)[0][0] == "reuse"
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'auth.refresh_reused'")[0][0] == 1


def test_a_retried_refresh_within_the_grace_period_is_not_a_replay(client, factory):
    """A phone whose refresh answer was lost on a bad network retries with the same token."""
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    first = login(client, desk)
    client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))  # answer lost

    retry = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))

    assert retry.status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(retry.get_json()["access_token"])).status_code == 200


def test_the_same_retry_after_the_grace_period_is_a_replay(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    first = login(client, desk)
    client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))
    sql("UPDATE token_families SET rotated_at = rotated_at - interval '31 seconds' WHERE user_id = :u", u=desk.id)

    replay = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"]))

    assert_error(replay, 401, "refresh_token_reused")


def test_refresh_reuse_leaves_other_logins_alone(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    other_login = login(client, desk)
    first = login(client, desk)
    middle = client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])).get_json()
    client.post("/api/v1/auth/refresh", headers=bearer(middle["refresh_token"]))

    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])), 401,
                 "refresh_token_reused")

    assert client.get("/api/v1/auth/me", headers=bearer(other_login["access_token"])).status_code == 200


def test_password_change_revokes_every_old_token_and_returns_new_ones(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    elsewhere = login(client, desk)
    here = login(client, desk)

    response = client.post("/api/v1/auth/password", headers=bearer(here["access_token"]),
                           json={"current_password": desk.password, "new_password": "New-pass-2026"})

    assert response.status_code == 200
    fresh = response.get_json()
    for old in (elsewhere, here):
        assert_error(client.get("/api/v1/auth/me", headers=bearer(old["access_token"])), 401, "token_revoked")
        assert_error(client.post("/api/v1/auth/refresh", headers=bearer(old["refresh_token"])), 401,
                     "token_revoked")
    assert client.get("/api/v1/auth/me", headers=bearer(fresh["access_token"])).status_code == 200
    assert client.post("/api/v1/auth/login",
                       json={"username": desk.username, "password": "New-pass-2026"}).status_code == 200
    assert_error(client.post("/api/v1/auth/login", json={"username": desk.username, "password": desk.password}),
                 401, "invalid_credentials")
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'auth.password_changed'")[0][0] == 1


def test_password_change_needs_the_current_password(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    tokens = login(client, desk)

    response = client.post("/api/v1/auth/password", headers=bearer(tokens["access_token"]),
                           json={"current_password": "not-it-123", "new_password": "New-pass-2026"})

    assert_error(response, 401, "invalid_credentials")
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["access_token"])).status_code == 200


def test_weak_new_password_is_refused(client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    tokens = login(client, desk)

    response = client.post("/api/v1/auth/password", headers=bearer(tokens["access_token"]),
                           json={"current_password": desk.password, "new_password": "12345678"})

    assert_error(response, 422, "weak_password")


def test_passwords_are_stored_as_argon2id(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")

    stored = sql("SELECT password_hash FROM users WHERE id = :u", u=desk.id)[0][0]

    assert stored.startswith("$argon2id$")
    assert desk.password not in stored


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_naming_another_tenant_than_its_users_is_refused(app, client, factory):
    tenant, other = factory.tenant(), factory.tenant("620621", "民勤县")
    desk = factory.user(tenant, "dispatcher")
    claims = _claims(login(client, desk)["access_token"])  # a real family and token version
    with app.app_context():
        moved = create_access_token(identity=claims["sub"], additional_claims={
            "tv": claims["tv"], "fam": claims["fam"], "roles": claims["roles"], "tid": other.id})

    assert_error(client.get(f"/api/v1/t/{other.code}", headers=bearer(moved)), 401, "token_revoked")
    assert_error(client.get("/api/v1/auth/me", headers=bearer(moved)), 401, "token_revoked")


def test_a_user_disabled_in_the_database_is_refused_on_the_next_request(client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    headers = bearer(login(client, desk)["access_token"])
    assert client.get(f"/api/v1/t/{tenant.code}", headers=headers).status_code == 200

    sql("UPDATE users SET is_active = false WHERE id = :u", u=desk.id)  # no token version bump

    assert_error(client.get(f"/api/v1/t/{tenant.code}", headers=headers), 401, "token_revoked")
