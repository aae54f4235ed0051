"""Access control in one place: who may call which view, for which tenant.

Views declare their roles with `@requires(...)` (or `@public`). One gate, run
before every /api/v1 request and before the body is parsed, then:
1. authenticates the token (401),
2. for paths under /api/v1/t/<tenant_code>/, resolves the tenant and checks the
   caller may see it; a tenant they may not see answers 404, as if absent,
3. sets the tenant scope that the ORM filter and RLS use,
4. checks the declared roles (403).
A view with no declaration is refused at start-up (`check_every_view_declares_access`).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g, request
from flask_jwt_extended import current_user, verify_jwt_in_request
from sqlalchemy import select

from app.common.roles import Role
from app.errors import Forbidden, NotFound
from app.extensions import db
from app.tenants.context import EMPTY_SCOPE, TenantScope, current_scope, reset_scope, set_scope

_ROLES_ATTR = "_liandong_roles"
_PUBLIC_ATTR = "_liandong_public"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def requires(*roles: Role):
    """Declare the roles allowed to call a view method. The gate enforces it."""
    def decorate(fn):
        setattr(fn, _ROLES_ATTR, frozenset(roles))
        # flask-smorest merges `_apidoc["manual_doc"]` into the operation: clients see `x-roles`.
        manual_doc = getattr(fn, "_apidoc", None)
        if manual_doc is None:
            manual_doc = fn._apidoc = {}
        manual_doc.setdefault("manual_doc", {})["x-roles"] = sorted(role.value for role in roles)
        return fn
    return decorate


def public(fn):
    """Declare a view callable without a token (login, refresh)."""
    setattr(fn, _PUBLIC_ATTR, True)
    return fn


@dataclass(frozen=True)
class ViewPolicy:
    is_public: bool
    roles: frozenset[Role] | None


def policy_for(endpoint: str, method: str) -> ViewPolicy:
    view = current_app.view_functions[endpoint]
    target = view
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        target = getattr(view_class, method.lower(), None)
        if target is None and method == "HEAD":
            target = getattr(view_class, "get", None)
    return ViewPolicy(
        is_public=bool(getattr(target, _PUBLIC_ATTR, False) or getattr(view, _PUBLIC_ATTR, False)),
        roles=getattr(target, _ROLES_ATTR, None) or getattr(view, _ROLES_ATTR, None),
    )


def _visible_tenant(user, tenant_code: str):
    from app.tenants.models import Tenant

    if user.tenant is not None and user.tenant.code == tenant_code:
        return user.tenant  # the user's own district: loaded with the user by the token check, no query
    tenant = db.session.execute(select(Tenant).where(Tenant.code == tenant_code)).scalar_one_or_none()
    if tenant is None:
        return None
    if user.tenant_id is not None:
        return tenant if user.tenant_id == tenant.id else None
    if user.has_role(Role.PROVINCIAL_SUPERVISOR) and user.province_code == tenant.province_code:
        return tenant
    return None


def _gate():
    if not request.path.startswith("/api/v1/") or request.endpoint is None:
        return None
    if request.method == "OPTIONS":
        return None
    policy = policy_for(request.endpoint, request.method)
    if policy.is_public:
        return None
    verify_jwt_in_request()
    user = current_user
    tenant_code = (request.view_args or {}).get("tenant_code")
    if tenant_code is not None:
        tenant = _visible_tenant(user, tenant_code)
        if tenant is None:
            raise NotFound("tenant_not_found", "The tenant does not exist.")
        if not tenant.is_active and user.tenant_id is not None:
            raise Forbidden("tenant_suspended", "This district's account is suspended.")
        g.tenant = tenant
        _set_scope_if_changed(TenantScope(frozenset({tenant.id}), user_id=user.id))
        if user.has_role(Role.PROVINCIAL_SUPERVISOR) and request.method not in READ_METHODS:
            raise Forbidden("read_only", "Provincial supervision is read-only.")
    else:
        own = frozenset({user.tenant_id}) if user.tenant_id is not None else frozenset()
        _set_scope_if_changed(TenantScope(own, user_id=user.id))
    if policy.roles is not None and not user.has_role(*policy.roles):
        raise Forbidden()
    return None


def _set_scope_if_changed(scope: TenantScope) -> None:
    """The token check already set this scope for a user in their own district: re-sending the same
    settings to the open transaction would be one more round trip for nothing."""
    if current_scope() != scope:
        set_scope(scope)


def _begin_scope():
    g._scope_token = set_scope(EMPTY_SCOPE)


def _end_scope(_exc):
    token = g.pop("_scope_token", None)
    if token is not None:
        # End the request's transaction first (Flask-SQLAlchemy would roll it back right after, when the
        # app context ends): resetting the scope then has no open transaction to re-send settings to.
        db.session.rollback()
        reset_scope(token)


def register_gate(app: Flask) -> None:
    app.before_request(_begin_scope)
    app.before_request(_gate)
    app.teardown_request(_end_scope)


def check_every_view_declares_access(app: Flask) -> None:
    """Fail fast: an /api/v1 view without @requires or @public is a hole."""
    missing = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/api/v1/"):
                continue
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                policy = policy_for(rule.endpoint, method)
                if not policy.is_public and policy.roles is None:
                    missing.append(f"{method} {rule.rule}")
    if missing:
        raise RuntimeError("views without an access declaration: " + ", ".join(missing))
