"""SQL for the database roles and row-level security, used by the Alembic migrations.

Kept in one module so every migration applies the same policy shape:
- tenant tables: `tenant_id = ANY(app_tenant_ids())` for reading and writing;
- the app role: owns nothing, no BYPASSRLS, may read and write data tables but
  never UPDATE, DELETE or TRUNCATE audit rows.
Changing a function here changes what old migrations do: add new helpers instead.
"""
from __future__ import annotations

import os

AUDIT_TABLES = ("audit_events", "platform_audit_events")

SCOPE_FUNCTIONS = """
CREATE OR REPLACE FUNCTION app_tenant_ids() RETURNS bigint[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('app.tenant_ids', true), ''), '{}')::bigint[]
$$;
CREATE OR REPLACE FUNCTION app_user_id() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.user_id', true), '')::bigint
$$;
CREATE OR REPLACE FUNCTION app_login_username() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.login_username', true), '')
$$;
CREATE OR REPLACE FUNCTION app_is_platform() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.platform', true), '') = 'on'
$$;
"""

DROP_SCOPE_FUNCTIONS = """
DROP FUNCTION IF EXISTS app_tenant_ids();
DROP FUNCTION IF EXISTS app_user_id();
DROP FUNCTION IF EXISTS app_login_username();
DROP FUNCTION IF EXISTS app_is_platform();
"""


def app_role() -> str:
    return os.environ.get("DB_APP_ROLE", "liandong_app")


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe identifier {name!r}")
    return '"' + name + '"'


def create_app_role_sql() -> str:
    role = app_role()
    return f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {_ident(role)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
  -- A non-superuser owner must be a member to `SET ROLE` to it on connect.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
     AND NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
    EXECUTE format('GRANT %I TO %I', '{role}', current_user);
  END IF;
END
$$;
"""


def grant_app_role_sql() -> str:
    """(Re)grant the app role its data privileges; run at the end of every migration that adds tables."""
    role = _ident(app_role())
    revoke_audit = "\n".join(
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role};" for table in AUDIT_TABLES)
    return f"""
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
REVOKE ALL ON alembic_version FROM {role};
{revoke_audit}
"""


def enable_tenant_rls_sql(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table}
  USING (tenant_id = ANY (app_tenant_ids()))
  WITH CHECK (tenant_id = ANY (app_tenant_ids()));
"""


USERS_RLS = """
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY user_visibility ON users
  USING (tenant_id = ANY (app_tenant_ids()) OR id = app_user_id()
         OR username = app_login_username() OR app_is_platform())
  WITH CHECK (tenant_id = ANY (app_tenant_ids()) OR (tenant_id IS NULL AND id = app_user_id())
              OR app_is_platform());
"""

# A login family is visible exactly when its user is (the subquery obeys the users policy).
TOKEN_FAMILIES_RLS = """
ALTER TABLE token_families ENABLE ROW LEVEL SECURITY;
ALTER TABLE token_families FORCE ROW LEVEL SECURITY;
CREATE POLICY via_user ON token_families
  USING (EXISTS (SELECT 1 FROM users u WHERE u.id = token_families.user_id))
  WITH CHECK (EXISTS (SELECT 1 FROM users u WHERE u.id = token_families.user_id));
"""
