"""Idempotency-Key on POST /api/v1/t/<code>/users (design.md section 8, app/common/idempotency.py).

Bodies are sent as explicit bytes so the tests can compute the request fingerprint
(method, path, raw body) exactly as the app does.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from sqlalchemy import text

from tests.factories import assert_error, auth, database_snapshot, snapshot_difference

KEY = "4f0c8a1e-phone-retry-0001"


def user_body(username: str = "zhang.san", display_name: str = "张三", **extra) -> dict:
    return {"username": username, "display_name": display_name, "password": "Good-pass-9",
            "roles": ["dispatcher"], **extra}


def raw(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def post_user(client, tenant, headers: dict, body: dict | bytes, key: str | None = KEY):
    data = body if isinstance(body, bytes) else raw(body)
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(f"/api/v1/t/{tenant.code}/users", data=data, content_type="application/json",
                       headers=headers)


def fingerprint(app, tenant, body: bytes) -> str:
    """The app's own request hash for this POST (app.common.idempotency._fingerprint)."""
    from app.common.idempotency import _fingerprint

    with app.test_request_context(f"/api/v1/t/{tenant.code}/users", method="POST", data=body,
                                  content_type="application/json"):
        return _fingerprint()


def advisory_lock_id(tenant_id: int, user_id: int, key: str) -> int:
    """The transaction lock the app takes for (tenant, user, key)."""
    return int.from_bytes(hashlib.sha256(f"{tenant_id}:{user_id}:{key}".encode()).digest()[:8],
                          "big", signed=True)


def key_rows(sql):
    return sql("SELECT tenant_id, user_id, key, state, status_code FROM idempotency_keys "
               "ORDER BY tenant_id, user_id, key")


def count_users(sql, username: str) -> int:
    return sql("SELECT count(*) FROM users WHERE username = :u", u=username)[0][0]


def count_created_events(sql, tenant_id: int, username: str) -> int:
    """`user.created` events of this district for the user with this username."""
    return sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t AND action = 'user.created' "
               "AND after->>'username' = :u", t=tenant_id, u=username)[0][0]


def assert_unchanged(owner_engine, before):
    after = database_snapshot(owner_engine)
    assert after == before, "the database changed:\n" + snapshot_difference(before, after)


def test_the_same_key_and_body_replays_the_stored_201_and_creates_only_one_user(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)

    first = post_user(client, tenant, headers, user_body())
    second = post_user(client, tenant, headers, user_body())
    third = post_user(client, tenant, headers, user_body())

    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    for replay in (second, third):
        assert replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.get_data() == first.get_data()
        assert replay.headers["Content-Type"] == first.headers["Content-Type"]
    assert count_users(sql, "zhang.san") == 1
    assert count_created_events(sql, tenant.id, "zhang.san") == 1
    assert [tuple(row) for row in key_rows(sql)] == [(tenant.id, admin.id, KEY, "done", 201)]


def test_a_key_lives_for_the_configured_ttl(client, factory, sql, app):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")

    assert post_user(client, tenant, auth(client, admin), user_body()).status_code == 201

    lifetime = sql("SELECT expires_at - created_at FROM idempotency_keys")[0][0]
    ttl = timedelta(hours=app.extensions["liandong_settings"].idempotency_ttl_hours)
    assert abs(lifetime - ttl) < timedelta(seconds=1)


def test_the_same_key_with_another_body_is_422_key_reused_and_stores_nothing(client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    assert post_user(client, tenant, headers, user_body()).status_code == 201
    before = database_snapshot(owner_engine)

    response = post_user(client, tenant, headers, user_body(username="li.si", display_name="李四"))

    assert_error(response, 422, "idempotency_key_reused")
    assert "Idempotent-Replayed" not in response.headers
    assert_unchanged(owner_engine, before)
    assert count_users(sql, "li.si") == 0


def test_a_key_whose_twin_request_holds_the_lock_is_409_in_flight_and_stores_nothing(
        client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    before = database_snapshot(owner_engine)

    # Another connection holds the advisory lock, as a twin request in its transaction would.
    with owner_engine.connect() as twin:
        twin.execute(text("SELECT pg_advisory_lock(:id)"), {"id": advisory_lock_id(tenant.id, admin.id, KEY)})
        try:
            response = post_user(client, tenant, headers, user_body())
        finally:
            twin.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": advisory_lock_id(tenant.id, admin.id, KEY)})
            twin.commit()

    assert_error(response, 409, "idempotency_request_in_flight")
    assert response.headers["Retry-After"] == "1"
    assert_unchanged(owner_engine, before)
    # Once the twin is done the key is free: the refused request claimed nothing.
    assert post_user(client, tenant, headers, user_body()).status_code == 201
    assert count_users(sql, "zhang.san") == 1


def test_a_claimed_key_whose_request_has_not_finished_is_409_in_flight(app, client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    body = raw(user_body())
    sql("INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, created_at, expires_at) "
        "VALUES (:t, :u, :k, :h, 'in_flight', now(), now() + interval '1 day')",
        t=tenant.id, u=admin.id, k=KEY, h=fingerprint(app, tenant, body))
    before = database_snapshot(owner_engine)

    response = post_user(client, tenant, headers, body)

    assert_error(response, 409, "idempotency_request_in_flight")
    assert response.headers["Retry-After"] == "1"
    assert_unchanged(owner_engine, before)
    assert count_users(sql, "zhang.san") == 0
    # Another body on that key is still a reuse, in flight or not.
    assert_error(post_user(client, tenant, headers, user_body(username="li.si")), 422, "idempotency_key_reused")
    assert_unchanged(owner_engine, before)


def test_a_request_refused_by_validation_leaves_the_key_unclaimed_so_the_corrected_body_with_the_same_key_succeeds(
        client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    invalid = {k: v for k, v in user_body().items() if k != "roles"}
    before = database_snapshot(owner_engine)

    refused = post_user(client, tenant, headers, invalid)

    assert_error(refused, 422, "validation_error")
    assert "roles" in refused.get_json()["errors"]
    assert_unchanged(owner_engine, before)
    # The 422 was not stored, so the key is free for the corrected request (another body).
    corrected = post_user(client, tenant, headers, user_body())
    assert corrected.status_code == 201, corrected.get_json()
    replay = post_user(client, tenant, headers, user_body())
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.get_data() == corrected.get_data()
    # From now on the key belongs to the corrected body: the invalid one is a reuse.
    assert_error(post_user(client, tenant, headers, invalid), 422, "idempotency_key_reused")
    assert count_users(sql, "zhang.san") == 1


def test_a_request_refused_by_the_service_stores_no_key_and_a_retry_is_answered_afresh(
        client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    factory.user(tenant, "dispatcher", username="zhang.san")
    before = database_snapshot(owner_engine)

    first = post_user(client, tenant, headers, user_body())
    retry = post_user(client, tenant, headers, user_body())

    for response in (first, retry):
        assert_error(response, 409, "username_taken")
        assert "Idempotent-Replayed" not in response.headers
    assert_unchanged(owner_engine, before)


def test_keys_are_per_user_another_admin_of_the_district_uses_the_same_key_independently(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    colleague = factory.user(tenant, "tenant_admin")
    admin_headers, colleague_headers = auth(client, admin), auth(client, colleague)

    mine = post_user(client, tenant, admin_headers, user_body())
    theirs = post_user(client, tenant, colleague_headers, user_body(username="li.si", display_name="李四"))
    my_replay = post_user(client, tenant, admin_headers, user_body())

    assert mine.status_code == 201 and theirs.status_code == 201, (mine.get_json(), theirs.get_json())
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["username"] == "li.si"
    assert my_replay.headers["Idempotent-Replayed"] == "true" and my_replay.get_data() == mine.get_data()
    assert {(row.user_id, row.key) for row in key_rows(sql)} == {(admin.id, KEY), (colleague.id, KEY)}
    assert count_created_events(sql, tenant.id, "zhang.san") == 1
    assert count_created_events(sql, tenant.id, "li.si") == 1


def test_keys_are_per_district_another_districts_admin_uses_the_same_key_independently(client, factory, sql):
    liangzhou = factory.tenant()
    minqin = factory.tenant("620621", "民勤县")
    liangzhou_admin = factory.user(liangzhou, "tenant_admin")
    minqin_admin = factory.user(minqin, "tenant_admin")

    here = post_user(client, liangzhou, auth(client, liangzhou_admin), user_body())
    there = post_user(client, minqin, auth(client, minqin_admin), user_body(username="wang.wu", display_name="王五"))

    assert here.status_code == 201 and there.status_code == 201, (here.get_json(), there.get_json())
    assert "Idempotent-Replayed" not in there.headers
    assert [(row.tenant_id, row.user_id, row.key) for row in key_rows(sql)] == [
        (liangzhou.id, liangzhou_admin.id, KEY), (minqin.id, minqin_admin.id, KEY)]
    assert count_created_events(sql, liangzhou.id, "zhang.san") == 1
    assert count_created_events(sql, minqin.id, "wang.wu") == 1


def test_an_empty_over_long_or_unprintable_key_is_400_invalid_idempotency_key_and_stores_nothing(
        client, factory, sql, owner_engine):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)
    before = database_snapshot(owner_engine)

    for key in ("", "k" * 201, "tab\tinside", "bell\x07"):
        assert_error(post_user(client, tenant, headers, user_body(), key=key), 400, "invalid_idempotency_key")

    assert_unchanged(owner_engine, before)
    # The limits are inclusive: 1 and 200 characters are fine.
    assert post_user(client, tenant, headers, user_body(), key="k" * 200).status_code == 201
    assert post_user(client, tenant, headers, user_body(username="li.si"), key="k").status_code == 201


def test_without_a_key_nothing_is_stored_and_a_repeat_is_not_replayed(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = auth(client, admin)

    assert post_user(client, tenant, headers, user_body(), key=None).status_code == 201
    assert_error(post_user(client, tenant, headers, user_body(), key=None), 409, "username_taken")
    assert key_rows(sql) == []


def test_the_maintenance_purge_deletes_only_the_expired_keys_of_its_district(client, factory, sql, app):
    from app.common.idempotency import purge_expired
    from app.tenants.context import tenant_scope

    liangzhou = factory.tenant()
    minqin = factory.tenant("620621", "民勤县")
    admin = factory.user(liangzhou, "tenant_admin")
    other_admin = factory.user(minqin, "tenant_admin")
    headers, other_headers = auth(client, admin), auth(client, other_admin)
    assert post_user(client, liangzhou, headers, user_body(), key="old").status_code == 201
    assert post_user(client, liangzhou, headers, user_body(username="li.si"), key="fresh").status_code == 201
    assert post_user(client, minqin, other_headers, user_body(username="wang.wu"), key="old").status_code == 201
    sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'old'")

    with app.app_context(), tenant_scope([liangzhou.id]):
        purged = purge_expired(liangzhou.id)

    assert purged == 1
    assert [(row.tenant_id, row.key) for row in key_rows(sql)] == [
        (liangzhou.id, "fresh"), (minqin.id, "old")]
    # The purged key is free again; the fresh one still guards its request.
    assert post_user(client, liangzhou, headers, user_body(username="zhao.liu"), key="old").status_code == 201
    assert_error(post_user(client, liangzhou, headers, user_body(username="zhao.liu"), key="fresh"),
                 422, "idempotency_key_reused")
    with app.app_context(), tenant_scope([minqin.id]):
        assert purge_expired(minqin.id) == 1
    assert [(row.tenant_id, row.key) for row in key_rows(sql)] == [
        (liangzhou.id, "fresh"), (liangzhou.id, "old")]


def test_the_same_json_in_another_key_order_is_the_same_request(client, factory):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = {**auth(client, admin), "Idempotency-Key": "order-1"}
    body = '{"username": "crew-9", "display_name": "队员", "password": "Crew-2026x", "roles": ["dispatcher"]}'
    reordered = '{"roles":["dispatcher"],"password":"Crew-2026x","display_name":"队员","username":"crew-9"}'

    first = client.post("/api/v1/t/620602/users", headers=headers, data=body, content_type="application/json")
    again = client.post("/api/v1/t/620602/users", headers=headers, data=reordered, content_type="application/json")

    assert first.status_code == 201
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_an_expired_key_is_free_again_before_the_purge_runs(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    headers = {**auth(client, admin), "Idempotency-Key": "old-1"}
    client.post("/api/v1/t/620602/users", headers=headers,
                json={"username": "crew-a", "display_name": "甲", "password": "Crew-2026x", "roles": ["dispatcher"]})
    sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")

    response = client.post("/api/v1/t/620602/users", headers=headers,
                           json={"username": "crew-b", "display_name": "乙", "password": "Crew-2026x",
                                 "roles": ["dispatcher"]})

    assert response.status_code == 201 and "Idempotent-Replayed" not in response.headers
    assert response.get_json()["username"] == "crew-b"
