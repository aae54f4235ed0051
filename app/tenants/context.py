"""Who the current request or job acts for: the tenant scope.

The scope drives two of the three layers of tenant defence (design.md section 4):
the ORM filter in `app.database` and the PostgreSQL settings that row-level
security reads (`app.tenant_ids`, `app.user_id`, ...). It lives in a ContextVar,
so a request or a job sees only its own scope, and it is reset when either ends.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator


@dataclass(frozen=True)
class TenantScope:
    tenant_ids: frozenset[int] = field(default_factory=frozenset)
    # The acting user's own row in `users` is visible even without a tenant (provincial users).
    user_id: int | None = None
    # During login only: the one `users` row with this username is visible.
    login_username: str | None = None
    # Platform operations (CLI, platform admin) see every row of global identity tables.
    is_platform: bool = False

    def gucs(self) -> dict[str, str]:
        """The transaction-local PostgreSQL settings that RLS policies read."""
        return {
            "app.tenant_ids": "{" + ",".join(str(i) for i in sorted(self.tenant_ids)) + "}",
            "app.user_id": "" if self.user_id is None else str(self.user_id),
            "app.login_username": self.login_username or "",
            "app.platform": "on" if self.is_platform else "",
        }


EMPTY_SCOPE = TenantScope()
_scope: ContextVar[TenantScope] = ContextVar("liandong_tenant_scope", default=EMPTY_SCOPE)


def current_scope() -> TenantScope:
    return _scope.get()


def set_scope(scope: TenantScope):
    """Replace the scope and push it into the open transaction, if any. Returns a reset token."""
    token = _scope.set(scope)
    _sync_open_transaction()
    return token


def reset_scope(token) -> None:
    _scope.reset(token)
    _sync_open_transaction()


def narrow(**changes) -> TenantScope:
    """Change fields of the current scope (e.g. add the tenant once the user is known)."""
    scope = replace(current_scope(), **changes)
    set_scope(scope)
    return scope


@contextmanager
def tenant_scope(tenant_ids: Iterable[int] = (), *, user_id: int | None = None,
                 login_username: str | None = None, is_platform: bool = False) -> Iterator[TenantScope]:
    """Run a block (a job, a CLI command, a test) as the given tenants."""
    scope = TenantScope(frozenset(int(t) for t in tenant_ids if t is not None), user_id,
                        login_username, is_platform)
    token = set_scope(scope)
    try:
        yield scope
    finally:
        reset_scope(token)


def _sync_open_transaction() -> None:
    # Imported late: the database module imports this one.
    from app.database import apply_scope_to_session

    apply_scope_to_session()
