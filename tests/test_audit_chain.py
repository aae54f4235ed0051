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


def _record_in_scope(app, tenant, body):
    from app.blueprints.audit import service as audit
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        body(audit, db.session)


def test_events_are_sealed_at_commit_and_vanish_with_a_rollback(app, factory, sql):
    tenant = factory.tenant()
    before = sql("SELECT count(*) FROM audit_events WHERE tenant_id = :t", t=tenant.id)[0][0]

    def rolled_back(audit, session):
        audit.record("test.discarded", tenant_id=tenant.id)
        session.rollback()
        audit.record("test.kept", tenant_id=tenant.id)
        session.commit()
    _record_in_scope(app, tenant, rolled_back)

    actions = [r.action for r in sql("SELECT action FROM audit_events WHERE tenant_id = :t ORDER BY seq", t=tenant.id)]
    assert len(actions) == before + 1 and actions[-1] == "test.kept"
    assert verify(app, "--tenant", "620602").exit_code == 0


def test_a_rolled_back_savepoint_takes_only_its_own_events(app, factory, sql):
    tenant = factory.tenant()

    def savepoints(audit, session):
        audit.record("test.outer", tenant_id=tenant.id)
        with session.begin_nested():
            audit.record("test.released", tenant_id=tenant.id)
        savepoint = session.begin_nested()
        audit.record("test.in_savepoint", tenant_id=tenant.id)
        savepoint.rollback()
        audit.record("test.after", tenant_id=tenant.id)
        session.commit()
    _record_in_scope(app, tenant, savepoints)

    actions = [r.action for r in sql("SELECT action FROM audit_events WHERE tenant_id = :t AND action LIKE 'test.%' "
                                     "ORDER BY seq", t=tenant.id)]
    assert actions == ["test.outer", "test.released", "test.after"]
    assert verify(app, "--tenant", "620602").exit_code == 0


def test_many_events_in_one_transaction_lock_the_chain_head_once(app, factory, sql):
    from sqlalchemy import event

    tenant = factory.tenant()
    head_locks = []

    def count_head_locks(_conn, _cursor, statement, *_args):
        if "FROM audit_chain_heads" in statement and "FOR UPDATE" in statement:
            head_locks.append(statement)

    def many(audit, session):
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count_head_locks)
        try:
            for n in range(50):
                audit.record("test.batch", tenant_id=tenant.id, after={"n": n})
            session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", count_head_locks)
    _record_in_scope(app, tenant, many)

    rows = sql("SELECT seq, after FROM audit_events WHERE tenant_id = :t AND action = 'test.batch' ORDER BY seq",
               t=tenant.id)
    assert [r.after["n"] for r in rows] == list(range(50))  # in the order recorded, consecutive
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 50))
    assert len(head_locks) == 1
    assert verify(app, "--tenant", "620602").exit_code == 0


def test_after_its_first_event_a_chain_head_is_only_locked_not_created_again(app, factory, sql):
    from sqlalchemy import event

    tenant = factory.tenant()  # provisioning writes the chain's first events
    head_statements = []

    def note(_conn, _cursor, statement, *_args):
        if "audit_chain_heads" in statement:
            head_statements.append(statement.split()[0])

    def one(audit, session):
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", note)
        try:
            audit.record("test.one", tenant_id=tenant.id, after={"n": 1})
            session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", note)
    _record_in_scope(app, tenant, one)

    assert head_statements == ["SELECT", "UPDATE"]  # lock, advance: no INSERT ... ON CONFLICT each time
    assert verify(app, "--tenant", "620602").exit_code == 0
