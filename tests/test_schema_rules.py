"""The tenancy rules of design.md section 4, read from the catalog of the migrated database.

Every table with a `tenant_id` column is tenant-owned: `tenant_id` NOT NULL, first in
the primary key, RLS enabled and forced under a policy, and every foreign key between
tenant tables carries `tenant_id`, so a row can never point into another tenant.
"""
from __future__ import annotations

import pytest

# Tables that have a tenant_id column but are not tenant-owned, and why. Keep it short.
GLOBAL_TABLES_WITH_TENANT_ID = {
    "users": "global identity table (app/blueprints/users/models.py): usernames are unique across "
             "the platform and provincial/platform users belong to no tenant, so tenant_id is "
             "nullable and the primary key is (id); rows are still guarded by FORCE RLS "
             "(policy user_visibility), and foreign keys into it use the global id",
}


@pytest.fixture(scope="module")
def catalog(owner_engine):
    """Query the migrated test database's catalog as the owner."""
    from sqlalchemy import text

    def run(statement: str, **params):
        with owner_engine.connect() as connection:
            return connection.execute(text(statement), params).all()
    return run


@pytest.fixture(scope="module")
def tables_with_tenant_id(catalog) -> list[str]:
    return [row[0] for row in catalog(
        "SELECT c.relname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') "
        "AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY c.relname")]


@pytest.fixture(scope="module")
def tenant_tables(tables_with_tenant_id) -> list[str]:
    return [t for t in tables_with_tenant_id if t not in GLOBAL_TABLES_WITH_TENANT_ID]


@pytest.fixture(scope="module")
def foreign_keys(catalog) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """(name, from table, to table, [(from column, to column), ...]) for every public foreign key."""
    rows = catalog("""
        SELECT con.conname, src.relname, dst.relname,
               array_agg(ARRAY[sa.attname::text, da.attname::text] ORDER BY k.ord)
        FROM pg_constraint con
        JOIN pg_class src ON src.oid = con.conrelid
        JOIN pg_class dst ON dst.oid = con.confrelid
        CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(src_att, dst_att, ord)
        JOIN pg_attribute sa ON sa.attrelid = con.conrelid AND sa.attnum = k.src_att
        JOIN pg_attribute da ON da.attrelid = con.confrelid AND da.attnum = k.dst_att
        WHERE con.contype = 'f' AND src.relnamespace = 'public'::regnamespace
        GROUP BY con.conname, src.relname, dst.relname ORDER BY con.conname""")
    return [(name, src, dst, [tuple(pair) for pair in pairs]) for name, src, dst, pairs in rows]


def test_the_known_tenant_tables_are_found(tenant_tables, tables_with_tenant_id):
    assert {"units", "audit_events", "idempotency_keys"} <= set(tenant_tables)
    # A stale exception would exempt a table nobody looks at any more.
    assert set(GLOBAL_TABLES_WITH_TENANT_ID) <= set(tables_with_tenant_id)


def test_tenant_id_is_not_null_and_leads_the_primary_key(catalog, tenant_tables):
    problems = []
    for table in tenant_tables:
        (pk_columns, not_null), = catalog("""
            SELECT ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(att, ord)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att
                         ORDER BY k.ord),
                   (SELECT attnotnull FROM pg_attribute WHERE attrelid = con.conrelid AND attname = 'tenant_id')
            FROM pg_constraint con WHERE con.contype = 'p' AND con.conrelid = CAST(:t AS regclass)""", t=table)
        # (tenant_id) alone is fine too: one row per tenant, like the audit chain heads.
        if not pk_columns or pk_columns[0] != "tenant_id":
            problems.append(f"{table}: primary key {pk_columns}, want (tenant_id, ...)")
        if not not_null:
            problems.append(f"{table}: tenant_id is nullable")
    assert not problems, "\n".join(problems)


def test_tenant_id_references_tenants(foreign_keys, tenant_tables):
    referencing = {src for _name, src, dst, pairs in foreign_keys
                   if dst == "tenants" and pairs == [("tenant_id", "id")]}
    assert set(tenant_tables) - referencing == set()


def test_rls_is_enabled_and_forced_with_a_policy_on_every_table_with_tenant_id(catalog, tables_with_tenant_id):
    # Including the exceptions: `users` is global, but still under FORCE RLS.
    problems = []
    for table in tables_with_tenant_id:
        (enabled, forced, policies), = catalog(
            "SELECT relrowsecurity, relforcerowsecurity, "
            "(SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) "
            "FROM pg_class c WHERE c.oid = CAST(:t AS regclass)", t=table)
        if not (enabled and forced and policies):
            problems.append(f"{table}: rls enabled={enabled} forced={forced} policies={policies}")
    assert not problems, "\n".join(problems)


def test_tenant_policies_key_on_tenant_id(catalog, tenant_tables):
    for table in tenant_tables:
        expressions = catalog(
            "SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) "
            "FROM pg_policy WHERE polrelid = CAST(:t AS regclass)", t=table)
        for using, check in expressions:
            assert "tenant_id" in using and "app_tenant_ids()" in using, (table, using)
            assert check is None or "tenant_id" in check, (table, check)


def test_foreign_keys_between_tenant_tables_include_tenant_id(foreign_keys, tables_with_tenant_id):
    # From every table with tenant_id (users too) to every other table with tenant_id.
    problems = [f"{name}: {src} -> {dst} on {pairs}" for name, src, dst, pairs in foreign_keys
                if src in tables_with_tenant_id and dst in tables_with_tenant_id
                and dst not in GLOBAL_TABLES_WITH_TENANT_ID and ("tenant_id", "tenant_id") not in pairs]
    assert not problems, "foreign keys that could point into another tenant:\n" + "\n".join(problems)


def test_foreign_keys_into_tenant_tables_include_tenant_id(foreign_keys, tenant_tables):
    # From any table at all: a global table pointing at a tenant row by id alone would
    # be a way across tenants too.
    problems = [f"{name}: {src} -> {dst} on {pairs}" for name, src, dst, pairs in foreign_keys
                if dst in tenant_tables and ("tenant_id", "tenant_id") not in pairs]
    assert not problems, "foreign keys into tenant tables without tenant_id:\n" + "\n".join(problems)
