"""The audit log is append-only and hash-chained: `flask audit verify` finds any change or deletion."""
from __future__ import annotations

from tests.factories import login


def verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_untouched_chains_verify(app, client, factory):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    login(client, desk)

    result = verify(app)

    assert result.exit_code == 0, result.output
    assert "OK      platform" in result.output
    assert "OK      620602 凉州区: 3 events" in result.output  # tenant created, user created, login


def test_each_event_links_to_the_previous_one(factory, client, sql):
    tenant = factory.tenant()
    login(client, factory.user(tenant, "dispatcher"))

    rows = sql("SELECT seq, prev_hash, hash FROM audit_events WHERE tenant_id = :t ORDER BY seq", t=tenant.id)

    assert [row.seq for row in rows] == [1, 2, 3]
    assert rows[0].prev_hash == "0" * 64
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))


def test_a_changed_row_is_detected(app, client, factory, sql):
    tenant = factory.tenant()
    desk = factory.user(tenant, "dispatcher")
    login(client, desk)
    sql("UPDATE audit_events SET actor_username = 'someone-else' WHERE tenant_id = :t AND seq = 3", t=tenant.id)

    result = verify(app, "--tenant", "620602")

    assert result.exit_code == 1
    assert "BROKEN  620602" in result.output
    assert "seq 3: content changed" in result.output


def test_a_deleted_row_in_the_middle_is_detected(app, client, factory, sql):
    tenant = factory.tenant()
    login(client, factory.user(tenant, "dispatcher"))
    sql("DELETE FROM audit_events WHERE tenant_id = :t AND seq = 2", t=tenant.id)

    result = verify(app, "--tenant", "620602")

    assert result.exit_code == 1
    assert "seq 2..2 missing" in result.output


def test_deleting_the_newest_rows_is_detected(app, client, factory, sql):
    tenant = factory.tenant()
    login(client, factory.user(tenant, "dispatcher"))
    sql("DELETE FROM audit_events WHERE tenant_id = :t AND seq = 3", t=tenant.id)

    result = verify(app, "--tenant", "620602")

    assert result.exit_code == 1
    assert "newest rows deleted" in result.output


def test_a_rewritten_chain_still_disagrees_with_its_head(app, client, factory, sql):
    """Recomputing every hash after an edit is not enough: the head remembers the last hash."""
    tenant = factory.tenant()
    login(client, factory.user(tenant, "dispatcher"))
    sql("UPDATE audit_chain_heads SET last_hash = repeat('f', 64) WHERE tenant_id = :t", t=tenant.id)

    result = verify(app, "--tenant", "620602")

    assert result.exit_code == 1
    assert "differs from the hash the head recorded" in result.output


def test_tampering_in_one_tenant_leaves_the_others_verified(app, client, factory, sql):
    liangzhou = factory.tenant()
    factory.tenant("620102", "城关区", template=None)
    sql("UPDATE audit_events SET action = 'x' WHERE tenant_id = :t AND seq = 1", t=liangzhou.id)

    result = verify(app)

    assert result.exit_code == 1
    assert "BROKEN  620602" in result.output
    assert "OK      620102 城关区" in result.output


def test_user_and_tenant_changes_are_audited_with_before_and_after(client, factory, sql):
    tenant = factory.tenant()
    admin = factory.user(tenant, "tenant_admin")
    desk = factory.user(tenant, "dispatcher")
    headers = {"Authorization": f"Bearer {login(client, admin)['access_token']}"}

    client.patch(f"/api/v1/t/620602/users/{desk.id}", headers=headers, json={"display_name": "夜班接警员"})

    row = sql("SELECT actor_user_id, target_id, before, after, request_id FROM audit_events "
              "WHERE action = 'user.updated'")[0]
    assert row.actor_user_id == admin.id
    assert row.target_id == str(desk.id)
    assert row.before["display_name"] == desk.username
    assert row.after["display_name"] == "夜班接警员"
    assert row.request_id
