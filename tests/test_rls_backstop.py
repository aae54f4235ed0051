"""Row-level security is the backstop under the ORM filter (design.md section 4).

Raw SQL as the app role, with tenant A set the way every app transaction sets it,
must neither see nor change tenant B's rows; with no tenant set it sees nothing.
The app role never rewrites audit history, and holds no power to step around RLS.
Then the other direction: the ORM filter alone, without RLS, keeps to tenant A.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.rls import AUDIT_TABLES, app_role
from tests.factories import auth

# Insert one row of the given tenant into each tenant table (:tenant, and :user, a user of it).
# One INSERT per tenant table, with every id given as a parameter (see row_params), so that
# under RLS the only thing wrong with another tenant's row is its tenant. The fixture also
# uses them, as the owner, to seed any table the services left empty. Order matters: a
# statement may use ids of the tables above it.
INSERT_ROW = {
    "units": "INSERT INTO units (tenant_id, name, short_name, duty_class, kind, sort_order, is_active) "
             "VALUES (:tenant, '越界单位' || gen_random_uuid(), '越界' || left(md5(random()::text), 8), 'other', "
             "'linkage', 0, true)",
    "audit_events": "INSERT INTO audit_events (tenant_id, seq, occurred_at, action, prev_hash, hash) "
                    "VALUES (:tenant, 999999, now(), 'forged', repeat('0', 64), repeat('0', 64)) "
                    "ON CONFLICT DO NOTHING",
    # Every tenant already has its head row: DO NOTHING keeps A's control insert legal, and
    # RLS checks the proposed row before any conflict is looked for.
    "audit_chain_heads": "INSERT INTO audit_chain_heads (tenant_id, last_seq, last_hash) "
                         "VALUES (:tenant, 0, repeat('0', 64)) ON CONFLICT DO NOTHING",
    "idempotency_keys": "INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, "
                        "created_at, expires_at) VALUES (:tenant, :user, 'forged-' || gen_random_uuid(), "
                        "'x', 'done', now(), now())",
    "users": "INSERT INTO users (username, display_name, tenant_id, roles, is_active, password_hash, "
             "token_version, failed_login_count) "
             "VALUES ('forged.' || gen_random_uuid(), 'forged', :tenant, ARRAY['dispatcher'], true, 'x', 0, 0)",
    "unit_responsibilities": "INSERT INTO unit_responsibilities (tenant_id, unit_id, number, text) "
                             "VALUES (:tenant, :unit, 900 + (random() * 99)::int, '越界职责') "
                             "ON CONFLICT DO NOTHING",
    "unit_contact_changes": "INSERT INTO unit_contact_changes (tenant_id, unit_id, changed_by_user_id, "
                            "changed_at, before, after) VALUES (:tenant, :unit, :user, now(), '{}', '{}')",
    "categories": "INSERT INTO categories (tenant_id, code, name, description, keywords, lead_unit_id, route, "
                  "severity, needs_site_visit, time_limits, sort_order, is_active, created_at, updated_at) "
                  "VALUES (:tenant, 'X' || (random() * 1e9)::bigint, '越界' || gen_random_uuid(), '', '{}', "
                  ":unit, 'direct', 'general', true, '{}', 0, true, now(), now())",
    "category_assists": "INSERT INTO category_assists (tenant_id, category_id, unit_id) "
                        "VALUES (:tenant, :category, :unit) ON CONFLICT DO NOTHING",
    "category_responsibilities": "INSERT INTO category_responsibilities (tenant_id, category_id, "
                                 "responsibility_id) VALUES (:tenant, :category, :responsibility) "
                                 "ON CONFLICT DO NOTHING",
    "notifications": "INSERT INTO notifications (tenant_id, recipient_user_id, channel, kind, title, body, data, "
                     "dedupe_key, state, attempts, created_at) VALUES (:tenant, :user, 'inbox', 'forged', "
                     "'越界', '', '{}', 'forged-' || gen_random_uuid(), 'pending', 0, now())",
    "roster_patterns": "INSERT INTO roster_patterns (tenant_id, unit_id, name, starts_on, start_time, shift_hours, "
                       "created_at, updated_at) VALUES (:tenant, :unit, '越界' || gen_random_uuid(), current_date, "
                       "'08:00', 24, now(), now())",
    # A slot needs a pattern; row_params knows none, so the statement inserts its own first (a
    # data-modifying CTE, not a read: under RLS the pattern INSERT itself is what gets refused).
    "roster_pattern_slots": "WITH p AS (INSERT INTO roster_patterns (tenant_id, unit_id, name, starts_on, start_time, "
                            "shift_hours, created_at, updated_at) VALUES (:tenant, :unit, '越界' || gen_random_uuid(), "
                            "current_date, '08:00', 24, now(), now()) RETURNING tenant_id, id) "
                            "INSERT INTO roster_pattern_slots (tenant_id, pattern_id, position, user_id) "
                            "SELECT tenant_id, id, 0, :user FROM p",
    "roster_overrides": "INSERT INTO roster_overrides (tenant_id, unit_id, kind, user_id, starts_at, ends_at, note, "
                        "created_at, updated_at) VALUES (:tenant, :unit, 'extra', :user, now(), "
                        "now() + interval '1 hour', '越界', now(), now())",
    "routing_examples": "INSERT INTO routing_examples (tenant_id, text, category_id, source, source_ref, "
                        "confirmed_by_user_id, confirmed_at) VALUES (:tenant, '越界', :category, 'manual', "
                        "'forged-' || gen_random_uuid(), :user, now())",
    "routing_models": "INSERT INTO routing_models (tenant_id, version, analyzer_version, examples_digest, "
                      "example_count, weights, trained_at, checked_at) VALUES (:tenant, "
                      "1 + (random() * 1e8)::int, 1, repeat('0', 64), 0, '{}', now(), now())",
    # Provisioning gives every tenant each cell and step already: DO NOTHING keeps A's control legal.
    "time_limit_defaults": "INSERT INTO time_limit_defaults (tenant_id, duty_class, severity, ack_minutes, "
                           "arrive_urban_minutes, arrive_suburban_minutes, arrive_rural_minutes, resolve_hours, "
                           "resolve_working_days) VALUES (:tenant, 'standard', 'general', 1, 1, 1, 1, NULL, 1) "
                           "ON CONFLICT DO NOTHING",
    "escalation_steps": "INSERT INTO escalation_steps (tenant_id, clock, step, offset_minutes, recipients, is_enabled) "
                        "VALUES (:tenant, 'resolve', 'red', 1, ARRAY['office'], true) ON CONFLICT DO NOTHING",
    "incidents": "INSERT INTO incidents (tenant_id, number, source, received_at, address, area_type, description, "
                 "severity, route, state, version, created_by_user_id, search_vector, created_at, updated_at) "
                 "VALUES (:tenant, 'X-' || left(md5(random()::text), 20), 'phone_110', now(), '越界', 'urban', '越界', "
                 "'general', 'direct', 'open', 1, :user, to_tsvector('simple', '越 界 越界'), now(), now())",
    # A call needs an incident; like roster_pattern_slots, the statement inserts its own first.
    "incident_calls": "WITH i AS (INSERT INTO incidents (tenant_id, number, source, received_at, address, area_type, "
                      "description, severity, route, state, version, search_vector, created_at, updated_at) "
                      "VALUES (:tenant, 'X-' || left(md5(random()::text), 20), 'sms', now(), '', 'urban', '越界', 'general', "
                      "'direct', 'open', 1, ''::tsvector, now(), now()) RETURNING tenant_id, id) "
                      "INSERT INTO incident_calls (tenant_id, incident_id, received_at, source, description, "
                      "merged_by_user_id, merged_at) SELECT tenant_id, id, now(), 'sms', '越界', :user, now() FROM i",
    "incident_counters": "INSERT INTO incident_counters (tenant_id, day, last_serial) "
                         "VALUES (:tenant, DATE '1999-01-01' + (random() * 1e6)::int, 1) ON CONFLICT DO NOTHING",
}

# Instructions (migration 0007): each statement makes its own incident (and instruction) first.
_INCIDENT_CTE = ("i AS (INSERT INTO incidents (tenant_id, number, source, received_at, address, area_type, description, "
                 "severity, route, state, version, search_vector, created_at, updated_at) VALUES (:tenant, 'X-' || "
                 "left(md5(random()::text), 20), 'sms', now(), '', 'urban', '越界', 'general', 'direct', 'open', 1, "
                 "''::tsvector, now(), now()) RETURNING tenant_id, id)")
_INSTRUCTION_CTE = ("WITH " + _INCIDENT_CTE + ", n AS (INSERT INTO instructions (tenant_id, incident_id, unit_id, role, "
                    "note, state, version, needs_site_visit, issued_at, acknowledge_by, resolve_by, redo_count, "
                    "is_overruled_return, created_at, updated_at) SELECT tenant_id, id, :unit, 'lead', '', 'issued', 1, "
                    "true, now(), now(), now(), 0, false, now(), now() FROM i RETURNING tenant_id, id, incident_id) ")
INSERT_ROW.update({
    "instructions": _INSTRUCTION_CTE + "SELECT 1",
    "instruction_responders": _INSTRUCTION_CTE + "INSERT INTO instruction_responders (tenant_id, instruction_id, "
                              "user_id, named_at) SELECT tenant_id, id, :user, now() FROM n",
    "instruction_feedback": _INSTRUCTION_CTE + "INSERT INTO instruction_feedback (tenant_id, instruction_id, kind, "
                            "text, author_user_id, at, media_ids) SELECT tenant_id, id, 'progress', '越界', :user, "
                            "now(), '{}' FROM n",
    "timeline_events": _INSTRUCTION_CTE + "INSERT INTO timeline_events (tenant_id, incident_id, instruction_id, kind, "
                       "actor_user_id, at, data) SELECT tenant_id, incident_id, id, 'forged', :user, now(), '{}' FROM n",
    # Migration 0008.
    "instruction_extensions": _INSTRUCTION_CTE + "INSERT INTO instruction_extensions (tenant_id, instruction_id, "
                              "state, reason, previous_resolve_by, requested_resolve_by, requested_by_user_id, "
                              "requested_at) SELECT tenant_id, id, 'pending', '越界', now(), now() + interval '1 day', "
                              ":user, now() FROM n",
})

# Media (migration 0009).
_MEDIA_BLOB_VALUES = ("(:tenant, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), 1, 'jpeg', 1, 1, 'pending', 0, "
                      "now())")
INSERT_ROW.update({
    "media_blobs": "INSERT INTO media_blobs (tenant_id, sha256, size_bytes, format, width, height, state, attempts, "
                   "created_at) VALUES " + _MEDIA_BLOB_VALUES,
    "media_items": "WITH b AS (INSERT INTO media_blobs (tenant_id, sha256, size_bytes, format, width, height, state, "
                   "attempts, created_at) VALUES " + _MEDIA_BLOB_VALUES + " RETURNING tenant_id, sha256) "
                   "INSERT INTO media_items (tenant_id, id, sha256, uploaded_by_user_id, uploaded_at, flags) "
                   "SELECT tenant_id, gen_random_uuid(), sha256, :user, now(), '{}' FROM b",
})

# Reminders and the outbox's endpoints (migration 0010).
INSERT_ROW.update({
    "timers": _INSTRUCTION_CTE + "INSERT INTO timers (tenant_id, instruction_id, incident_id, unit_id, clock, step, "
              "offset_seconds, recipients, due_at, state, token, attempts, created_at, outcome) SELECT tenant_id, id, "
              "incident_id, :unit, 'resolve', 'yellow', 0, ARRAY['liaison']::varchar[], now(), 'pending', 1, 0, "
              "now(), '{}' FROM n",
    # A webhook of a unit that has none yet, so every statement adds a row (one endpoint per unit and channel).
    "notification_endpoints": "INSERT INTO notification_endpoints (tenant_id, channel, unit_id, target, secret, "
                              "is_enabled) SELECT :tenant, 'webhook', (SELECT u.id FROM units u WHERE u.tenant_id = "
                              ":tenant AND NOT EXISTS (SELECT 1 FROM notification_endpoints e WHERE e.tenant_id = "
                              "u.tenant_id AND e.channel = 'webhook' AND e.unit_id = u.id) ORDER BY u.id LIMIT 1), "
                              "'https://forged.example/hook', 'forged-secret-000000', true",
})


def row_params(sql, tenant_id: int, user_id: int) -> dict:
    """Ids of one tenant's rows, read as the owner, for the INSERT_ROW statements."""
    def first(table: str):
        rows = sql(f"SELECT min(id) FROM {table} WHERE tenant_id = :t", t=tenant_id)
        return rows[0][0]
    return {"tenant": tenant_id, "user": user_id, "unit": first("units"), "category": first("categories"),
            "responsibility": first("unit_responsibilities")}


def tenant_tables(sql) -> list[str]:
    return [row[0] for row in sql(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = 'public' AND column_name = 'tenant_id' ORDER BY table_name")]


@contextmanager
def app_role_connection(owner_engine):
    """A connection that acts as the app role, like every pooled connection of the app."""
    connection = owner_engine.connect()
    try:
        connection.execute(text(f'SET ROLE "{app_role()}"'))
        connection.commit()
        yield connection
    finally:
        # Never hand a connection still in the app role back to the owner's pool.
        connection.invalidate()
        connection.close()


@contextmanager
def as_tenants(connection, *tenant_ids: int):
    """One transaction scoped the way app.database scopes every transaction; rolled back."""
    transaction = connection.begin()
    try:
        connection.execute(text("SELECT set_config('app.tenant_ids', :ids, true)"),
                           {"ids": "{" + ",".join(str(t) for t in tenant_ids) + "}"})
        yield connection
    finally:
        transaction.rollback()


def refused(connection, statement: str, **params) -> DBAPIError:
    """Run a statement that PostgreSQL must refuse; return the error (rolled back to a savepoint)."""
    savepoint = connection.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        connection.execute(text(statement), params)
    savepoint.rollback()
    return caught.value


def count(connection, table: str, tenant_id: int) -> int:
    return connection.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                              {"t": tenant_id}).scalar_one()


@pytest.fixture
def tenants(factory, client, sql):
    """Tenants A and B, each with rows in every tenant table (units by template, users,
    audit events by the services, an idempotency key through the API); and a user of no
    tenant, which a tenant must not see either."""
    factory.user(None, "provincial_supervisor", username="supervisor.620000", province_code="620000")
    pair = []
    for code, name in (("620602", "凉州区"), ("110105", "朝阳区")):
        tenant = factory.tenant(code, name, template="liangzhou")
        admin = factory.user(tenant, "tenant_admin", username=f"admin.{code}")
        factory.user(tenant, "responder", username=f"responder.{code}")
        response = client.post(f"/api/v1/t/{code}/users", headers={**auth(client, admin), "Idempotency-Key": "k1"},
                               json={"username": f"desk.{code}", "display_name": "desk", "password": "Desk-pass-1",
                                     "roles": ["dispatcher"]})
        assert response.status_code == 201, response.get_json()
        for table, statement in INSERT_ROW.items():  # tables no service has filled yet
            if sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=tenant.id)[0][0] == 0:
                sql(statement, **row_params(sql, tenant.id, admin.id))
        pair.append((tenant, admin))
    return pair


def test_every_tenant_table_is_covered_and_seeded(sql, tenants):
    (a, _), (b, _) = tenants
    tables = tenant_tables(sql)
    assert {"units", "audit_events", "idempotency_keys", "users"} <= set(tables)
    assert set(tables) == set(INSERT_ROW), "add an INSERT_ROW statement for each new tenant table"
    for table in tables:
        # Otherwise "B's rows are invisible" would prove nothing.
        assert sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=b.id)[0][0] > 0, table
        assert sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=a.id)[0][0] > 0, table


def test_app_role_sees_only_the_tenant_set_for_the_transaction(owner_engine, sql, tenants):
    (a, _), (b, _) = tenants
    with app_role_connection(owner_engine) as connection, as_tenants(connection, a.id):
        for table in tenant_tables(sql):
            assert count(connection, table, b.id) == 0, f"{table}: B's rows visible to A"
            assert connection.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id IS DISTINCT FROM :a"),
                                      {"a": a.id}).scalar_one() == 0, table
            owner_sees = sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=a.id)[0][0]
            assert count(connection, table, a.id) == owner_sees, f"{table}: A's own rows not all visible"


def test_app_role_with_no_tenant_set_sees_nothing(owner_engine, sql, tenants):
    (a, _), _ = tenants
    with app_role_connection(owner_engine) as connection:
        # Also after a scoped transaction ended: set_config(..., true) must not outlive it.
        with as_tenants(connection, a.id):
            pass
        with connection.begin():
            for table in tenant_tables(sql):
                assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0, table


def test_app_role_cannot_insert_a_row_of_another_tenant(owner_engine, sql, tenants):
    (a, _), (b, b_admin) = tenants
    with app_role_connection(owner_engine) as connection, as_tenants(connection, a.id):
        for table, statement in INSERT_ROW.items():
            error = refused(connection, statement, **row_params(sql, b.id, b_admin.id))
            assert error.orig.sqlstate == "42501", (table, error)
            assert "row-level security" in str(error.orig), (table, error)
    assert sql("SELECT count(*) FROM units WHERE name = '越界单位'")[0][0] == 0


def test_app_role_can_insert_a_row_of_its_own_tenant(owner_engine, sql, tenants):
    # Control for the test above: the statements are sound, only the tenant is wrong there.
    (a, a_admin), _ = tenants
    with app_role_connection(owner_engine) as connection, as_tenants(connection, a.id):
        for table in INSERT_ROW:
            connection.execute(text(INSERT_ROW[table]), row_params(sql, a.id, a_admin.id))


def test_app_role_cannot_update_or_delete_rows_of_another_tenant(owner_engine, sql, tenants):
    (a, _), (b, _) = tenants
    before = {table: sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=b.id)[0][0]
              for table in tenant_tables(sql)}
    with app_role_connection(owner_engine) as connection:
        with as_tenants(connection, a.id):
            for table in set(tenant_tables(sql)) - set(AUDIT_TABLES):  # audit rows: see below
                update = connection.execute(text(f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = :b"),
                                            {"b": b.id})
                assert update.rowcount == 0, f"{table}: updated B's rows"
                delete = connection.execute(text(f"DELETE FROM {table} WHERE tenant_id = :b"), {"b": b.id})
                assert delete.rowcount == 0, f"{table}: deleted B's rows"
            # Nor can an own row be moved into B.
            error = refused(connection, "UPDATE units SET tenant_id = :b WHERE tenant_id = :a", a=a.id, b=b.id)
            assert "row-level security" in str(error.orig)
    assert before == {table: sql(f"SELECT count(*) FROM {table} WHERE tenant_id = :t", t=b.id)[0][0]
                      for table in tenant_tables(sql)}


@pytest.mark.parametrize("table", AUDIT_TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET action = action", "DELETE FROM {table}",
                                       "TRUNCATE {table}"], ids=["update", "delete", "truncate"])
def test_app_role_cannot_rewrite_audit_history_even_its_own(owner_engine, sql, tenants, table, statement):
    (a, _), _ = tenants
    rows = sql(f"SELECT count(*) FROM {table}")[0][0]
    assert rows > 0
    with app_role_connection(owner_engine) as connection, as_tenants(connection, a.id):
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() > 0  # may read
        error = refused(connection, statement.format(table=table))
        assert error.orig.sqlstate == "42501" and "permission denied" in str(error.orig), error
    assert sql(f"SELECT count(*) FROM {table}")[0][0] == rows


def test_app_role_has_no_power_over_rls(sql):
    role = app_role()
    rolsuper, rolbypassrls = sql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r", r=role)[0]
    assert (rolsuper, rolbypassrls) == (False, False)
    # Owners are exempt from plain RLS; FORCE covers them, but the app role should own nothing at all.
    owned = sql("SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = :r)", r=role)
    assert owned == []
    assert sql("SELECT count(*) FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = :r)",
               r=role)[0][0] == 0


def test_orm_session_in_a_tenant_scope_returns_only_that_tenants_rows(app, tenants):
    from app.blueprints.units.models import Unit
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope

    (a, _), _ = tenants
    with app.app_context(), tenant_scope([a.id]):
        units = db.session.execute(select(Unit)).scalars().all()
        users = db.session.execute(select(User)).unique().scalars().all()
        assert units and {unit.tenant_id for unit in units} == {a.id}
        assert users and {user.tenant_id for user in users} == {a.id}
        db.session.rollback()


def test_orm_filter_alone_keeps_to_the_tenant_without_rls(owner_engine, sql, tenants):
    # The owner here is a superuser, which RLS never applies to: what remains is the ORM filter.
    from app.blueprints.units.models import Unit
    from app.blueprints.users.models import User
    from app.tenants.context import tenant_scope

    (a, _), (b, _) = tenants
    assert sql("SELECT count(*) FROM units WHERE tenant_id = :b", b=b.id)[0][0] > 0  # owner sees B
    with tenant_scope([a.id]), Session(owner_engine) as session:
        assert {unit.tenant_id for unit in session.execute(select(Unit)).scalars()} == {a.id}
        assert {user.tenant_id for user in session.execute(select(User)).unique().scalars()} == {a.id}
        assert session.execute(select(Unit).where(Unit.tenant_id == b.id)).first() is None
    with tenant_scope([]), Session(owner_engine) as session:
        assert session.execute(select(Unit)).first() is None


def test_app_role_cannot_move_the_acting_users_own_row_into_another_tenant(owner_engine, tenants):
    (a, a_admin), (b, _) = tenants
    with app_role_connection(owner_engine) as connection, as_tenants(connection, a.id):
        # As every request of A's admin runs: tenant A, and the acting user's id.
        connection.execute(text("SELECT set_config('app.user_id', :u, true)"), {"u": str(a_admin.id)})
        error = refused(connection, "UPDATE users SET tenant_id = :b WHERE id = :u", b=b.id, u=a_admin.id)
        assert "row-level security" in str(error.orig)
