"""Database wiring: the app role, per-transaction tenant settings, the ORM tenant filter.

- Every pooled connection runs `SET ROLE <DB_APP_ROLE>` when it opens, so the
  running app acts as the role that owns nothing and has no BYPASSRLS, even when
  DATABASE_URL names a superuser (as on CI). Migrations use their own engine
  without this hook (migrations/env.py).
- Every transaction begins with `set_config(..., true)` for the scope's settings,
  which the RLS policies read (design.md section 4).
- Every ORM SELECT/UPDATE/DELETE gets `tenant_id = ANY(app_tenant_ids())` on tenant
  tables, and the twin of the `users` policy on users. A scope of one tenant (every request
  of a district user) gets `tenant_id = <that id>` instead, as a bound value: the same rows,
  but an equality the planner may use to walk a `(tenant_id, ...)` index in order. `= ANY`
  cannot give order, and under RLS a condition built on `current_setting()` may not become an
  index condition at all (it is not leakproof), so a page of the newest of a million incidents
  was a full scan and a sort.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from flask import has_app_context
from psycopg import sql
from sqlalchemy import BigInteger, Boolean, String, any_, event, func, or_, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.extensions import db
from app.tenants.context import TenantScope, current_scope

_SET_SCOPE_SQL = text(
    "SELECT set_config('app.tenant_ids', :tenant_ids, true), "
    "set_config('app.user_id', :user_id, true), "
    "set_config('app.login_username', :login_username, true), "
    "set_config('app.platform', :platform, true)"
)


def _gucs_params(scope: TenantScope) -> dict[str, str]:
    return {key.split(".", 1)[1]: value for key, value in scope.gucs().items()}


def install_app_role(engine: Engine, role: str) -> None:
    @event.listens_for(engine, "connect")
    def _set_role(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            # psycopg prepares a statement run five times, and PostgreSQL then may switch to a generic
            # plan that ignores the values: for a search term or a key lookup under RLS that plan can be
            # a scan (measured: search 0.8 req/s, 8-14 s a query, against 12-270 ms planned each time).
            # Keep the prepared statements (no re-parsing), but plan each execution for its values.
            cursor.execute("SET plan_cache_mode = force_custom_plan")
        dbapi_connection.commit()


@event.listens_for(Session, "after_begin")
def _scope_new_transaction(session: Session, _transaction, connection) -> None:
    connection.execute(_SET_SCOPE_SQL, _gucs_params(current_scope()))


def apply_scope_to_session() -> None:
    """Re-send the scope to a transaction already open on the request's session."""
    if not has_app_context():
        return
    session = db.session()
    transaction = session.get_transaction()
    if transaction is not None and transaction.is_active:
        # One bind: session.connection() is the connection of the open transaction.
        session.connection().execute(_SET_SCOPE_SQL, _gucs_params(current_scope()))


@event.listens_for(Session, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent statement's criteria propagate to these loads
    from app.blueprints.users.models import User
    from app.tenants.models import TenantOwned

    # Several tenants (a provincial supervisor): the criteria read the transaction's settings, so
    # criteria that propagate to lazy loads never go stale. One tenant: its id as a bound value; a
    # lazy load under a later, different scope can then only see fewer rows (RLS still reads the
    # transaction's settings), never more.
    tenant_ids = current_scope().tenant_ids
    if len(tenant_ids) == 1:
        (tenant_id,) = tenant_ids
        criteria = with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    else:
        criteria = with_loader_criteria(TenantOwned, _tenants_criteria, include_aliases=True)
    state.statement = state.statement.options(
        criteria,
        # The function, not its expression: SQLAlchemy caches a callable's criteria like a lambda; a fresh
        # expression per statement cost ~0.2 ms of every ORM statement (measured, bench/incidents/profile.py).
        with_loader_criteria(User, _user_criteria, include_aliases=True),
    )


def _scope_tenant_ids():
    return func.app_tenant_ids(type_=ARRAY(BigInteger))


def _tenants_criteria(cls):
    return cls.tenant_id == any_(_scope_tenant_ids())


def _user_criteria(User):
    """The ORM twin of the RLS policy on `users` (migration 0001)."""
    return or_(
        User.tenant_id == any_(_scope_tenant_ids()),
        User.id == func.app_user_id(type_=BigInteger),
        User.username == func.app_login_username(type_=String),
        func.app_is_platform(type_=Boolean),
    )


@event.listens_for(Session, "before_flush")
def _refuse_foreign_tenant_rows(session: Session, _context, _instances) -> None:
    from app.errors import NotFound
    from app.tenants.models import TenantOwned

    allowed = current_scope().tenant_ids
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, TenantOwned) and obj.tenant_id not in allowed:
            raise NotFound("tenant_not_found", "The tenant does not exist.")


def flush_unique(obj, conflicts: dict) -> None:
    """Add and flush `obj` in a savepoint; a violated unique constraint named in `conflicts` raises
    the domain error its factory makes (e.g. {"uq_users_username": lambda: Conflict("username_taken",
    ...)}). Any other integrity error is a bug and propagates."""
    try:
        with db.session.begin_nested():
            db.session.add(obj)
            db.session.flush()
    except IntegrityError as error:
        constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
        if constraint in conflicts:
            raise conflicts[constraint]() from None
        raise


class UnitOfWork:
    """One transaction; callbacks registered with `after_commit` run only if it commits."""

    def __init__(self, session: Session):
        self.session = session
        self._after_commit: list[tuple[Callable, tuple, dict]] = []

    def after_commit(self, fn: Callable, *args, **kwargs) -> None:
        self._after_commit.append((fn, args, kwargs))


@contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    session = db.session()
    uow = UnitOfWork(session)
    try:
        yield uow
        session.commit()
    except BaseException:
        session.rollback()
        raise
    for fn, args, kwargs in uow._after_commit:
        fn(*args, **kwargs)
