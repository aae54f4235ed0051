"""Rules for user accounts: who may hold which role, where, and what changing one does."""
from __future__ import annotations

from sqlalchemy import any_, literal, or_, select

from app.blueprints.audit import service as audit
from app.blueprints.auth.passwords import hash_password
from app.blueprints.auth.service import normalize_username, revoke_all_families, set_password
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common.listing import paginate, sort_clause
from app.common.roles import TENANT_ROLES, UNIT_ROLES, Role
from app.database import flush_unique
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.tenants.models import Tenant

_AUDITED_FIELDS = ("display_name", "phone", "roles", "unit_id", "is_active")


def snapshot(user: User) -> dict:
    return {field: getattr(user, field) for field in ("username", *_AUDITED_FIELDS)}


def _check_roles(*, roles: list[str], tenant: Tenant | None, province_code: str | None,
                 unit_id: int | None) -> None:
    role_set = {Role(r) for r in roles}
    if tenant is not None and not role_set <= TENANT_ROLES:
        raise Unprocessable("role_not_allowed", "Tenant users hold tenant roles only.",
                            errors={"roles": ["Not a tenant role."]})
    if tenant is None:
        if role_set == {Role.PROVINCIAL_SUPERVISOR}:
            if not province_code:
                raise Unprocessable("province_required", "A provincial supervisor needs a province code.")
        elif role_set != {Role.PLATFORM_ADMIN}:
            raise Unprocessable("tenant_required", "These roles belong to a tenant.")
    needs_unit = bool(role_set & UNIT_ROLES)
    if needs_unit and unit_id is None:
        raise Unprocessable("unit_required", "Unit roles need a unit.", errors={"unit_id": ["Required."]})
    if unit_id is not None and not needs_unit:
        raise Unprocessable("unit_not_allowed", "Only unit roles belong to a unit.",
                            errors={"unit_id": ["Only for unit roles."]})


def _check_unit(tenant_id: int, unit_id: int | None) -> None:
    if unit_id is None:
        return
    unit = db.session.get(Unit, (tenant_id, unit_id))
    if unit is None:
        raise Unprocessable("unit_not_found", "No such unit in this district.",
                            errors={"unit_id": ["Unknown unit."]})


def create_user(*, tenant: Tenant | None, actor: User | None, username: str, display_name: str,
                password: str, roles: list[str], phone: str | None = None, unit_id: int | None = None,
                province_code: str | None = None) -> User:
    roles = sorted(set(roles))
    _check_roles(roles=roles, tenant=tenant, province_code=province_code, unit_id=unit_id)
    if tenant is not None:
        _check_unit(tenant.id, unit_id)
    user = User(
        username=normalize_username(username), display_name=display_name, phone=phone,
        tenant_id=tenant.id if tenant else None, province_code=province_code if tenant is None else None,
        unit_id=unit_id, roles=roles, password_hash=hash_password(password), is_active=True,
        token_version=0, failed_login_count=0,
    )
    flush_unique(user, {"uq_users_username": lambda: Conflict(
        "username_taken", "That username is already in use.", errors={"username": ["Already in use."]})})
    audit.record("user.created", tenant_id=user.tenant_id, actor=actor, target_type="user",
                 target_id=user.id, after=snapshot(user))
    db.session.commit()
    return user


def get_user(*, user_id: int) -> User:
    """A user of the current tenant scope; others do not exist for the caller."""
    user = db.session.execute(
        select(User).where(User.id == user_id, User.tenant_id.is_not(None))
    ).unique().scalar_one_or_none()
    if user is None:
        raise NotFound("user_not_found", "No such user.")
    return user


def list_users(*, tenant: Tenant, pagination, role: str | None = None, unit_id: int | None = None,
               is_active: bool | None = None, q: str | None = None, sort: str = "username") -> list[User]:
    statement = select(User).where(User.tenant_id == tenant.id)
    if role:
        statement = statement.where(literal(role) == any_(User.roles))
    if unit_id is not None:
        statement = statement.where(User.unit_id == unit_id)
    if is_active is not None:
        statement = statement.where(User.is_active.is_(is_active))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(User.username.ilike(pattern), User.display_name.ilike(pattern),
                                        User.phone.ilike(pattern)))
    statement = statement.order_by(
        sort_clause(User, sort, {"username", "display_name", "created_at"}))
    return paginate(statement, pagination, tiebreak=User.id)


def update_user(*, user_id: int, actor: User, changes: dict) -> User:
    user = get_user(user_id=user_id)
    before = snapshot(user)
    unlock = changes.pop("unlock", False)
    if changes.get("is_active") is False and user.id == actor.id:
        raise Conflict("cannot_deactivate_self", "You cannot deactivate your own account.")
    if "roles" in changes and user.id == actor.id and Role.TENANT_ADMIN not in changes["roles"]:
        raise Conflict("cannot_drop_own_admin", "You cannot remove your own administrator role.")
    roles = sorted(set(changes.get("roles", user.roles)))
    unit_id = changes.get("unit_id", user.unit_id)
    if not ({Role(r) for r in roles} & UNIT_ROLES) and "unit_id" not in changes:
        unit_id = None  # leaving unit roles leaves the unit
    _check_roles(roles=roles, tenant=user.tenant, province_code=None, unit_id=unit_id)
    _check_unit(user.tenant_id, unit_id)
    for field in ("display_name", "phone", "is_active"):
        if field in changes:
            setattr(user, field, changes[field])
    user.roles, user.unit_id = roles, unit_id
    if before["is_active"] and not user.is_active:
        user.token_version += 1
        revoke_all_families(user, reason="deactivated")
    if unlock:
        user.locked_until, user.failed_login_count = None, 0
    after = snapshot(user)
    if after != before or unlock:
        audit.record("user.updated", tenant_id=user.tenant_id, actor=actor, target_type="user",
                     target_id=user.id, before=before, after={**after, **({"unlocked": True} if unlock else {})})
    db.session.commit()
    return user


def reset_password(*, user_id: int, actor: User, new_password: str) -> None:
    user = get_user(user_id=user_id)
    set_password(user, new_password, reason="password_reset", field="new_password")
    audit.record("user.password_reset", tenant_id=user.tenant_id, actor=actor, target_type="user",
                 target_id=user.id)
    db.session.commit()
