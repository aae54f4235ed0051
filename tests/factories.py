"""Factories for tenants and users, through the real services; and a login helper."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select

PASSWORD = "Test-pass-1"
_seq = itertools.count(1)


@dataclass
class TenantRef:
    id: int
    code: str
    name: str
    province_code: str


@dataclass
class UserRef:
    id: int
    username: str
    password: str
    roles: list[str]
    tenant_code: str | None
    unit_id: int | None


class Factory:
    def __init__(self, app):
        self.app = app

    def tenant(self, code: str = "620602", name: str = "凉州区", *, template: str | None = "liangzhou",
               province_code: str | None = None) -> TenantRef:
        from app.tenants import service
        from app.tenants.context import tenant_scope

        with self.app.app_context(), tenant_scope(is_platform=True):
            tenant = service.create_tenant(code=code, name=name, template=template,
                                           province_code=province_code)
            return TenantRef(tenant.id, tenant.code, tenant.name, tenant.province_code)

    def unit_id(self, tenant: TenantRef, short_name: str = "建设") -> int:
        from app.blueprints.units.models import Unit
        from app.extensions import db
        from app.tenants.context import tenant_scope

        with self.app.app_context(), tenant_scope([tenant.id]):
            return db.session.execute(
                select(Unit.id).where(Unit.short_name == short_name)).scalar_one()

    def user(self, tenant: TenantRef | None, *roles: str, username: str | None = None,
             password: str = PASSWORD, unit_id: int | None = None,
             province_code: str | None = None) -> UserRef:
        from app.blueprints.users import service
        from app.common.roles import UNIT_ROLES
        from app.extensions import db
        from app.tenants.context import tenant_scope
        from app.tenants.models import Tenant

        roles = list(roles)
        if unit_id is None and tenant is not None and set(roles) & {r.value for r in UNIT_ROLES}:
            unit_id = self.unit_id(tenant)
        username = username or f"{roles[0].replace('_', '-')}-{next(_seq)}"
        with self.app.app_context(), tenant_scope([tenant.id] if tenant else [], is_platform=True):
            tenant_row = db.session.get(Tenant, tenant.id) if tenant else None
            user = service.create_user(tenant=tenant_row, actor=None, username=username,
                                       display_name=username, password=password, roles=roles,
                                       unit_id=unit_id, province_code=province_code)
            return UserRef(user.id, user.username, password, user.roles,
                           tenant.code if tenant else None, user.unit_id)


def login(client, user: UserRef | str, password: str = PASSWORD) -> dict:
    """Log in and return the token response."""
    username = user if isinstance(user, str) else user.username
    password = password if isinstance(user, str) else user.password
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def auth(client, user: UserRef) -> dict:
    """Authorization header for a fresh login of this user."""
    return {"Authorization": f"Bearer {login(client, user)['access_token']}"}


def assert_error(response, status: int, error: str | None = None) -> dict:
    """The uniform error body, with the expected status and machine code."""
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"code", "status", "message", "error", "errors"}, body
    assert body["code"] == status
    assert isinstance(body["message"], str) and body["message"]
    if error is not None:
        assert body["error"] == error, body
    return body


def client_from(app, address: str):
    """A test client whose requests come from this remote address (rate limits are per address)."""
    test_client = app.test_client()
    test_client.environ_base["REMOTE_ADDR"] = address
    return test_client


def database_snapshot(owner_engine) -> dict[str, list[str]]:
    """Every row of every table but alembic_version, read as the owner (past RLS), in a stable order.

    Two snapshots compare equal exactly when no row was inserted, changed or deleted.
    """
    from sqlalchemy import text

    with owner_engine.connect() as connection:
        tables = connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
        return {table: sorted(connection.execute(
                    text(f'SELECT to_jsonb(t)::text FROM public."{table}" AS t')).scalars().all())
                for table in tables}


def snapshot_difference(before: dict[str, list[str]], after: dict[str, list[str]], limit: int = 3) -> str:
    """A short, readable account of the rows two snapshots disagree on."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old == new:
            continue
        added = sorted(set(new) - set(old))
        removed = sorted(set(old) - set(new))
        lines.append(f"{table}: {len(old)} -> {len(new)} rows")
        lines += [f"  + {row[:400]}" for row in added[:limit]]
        lines += [f"  - {row[:400]}" for row in removed[:limit]]
    return "\n".join(lines)


def make_category(app, tenant: TenantRef, *, code: str = "GRP", name: str = "分组", parent_id: int | None = None,
                  lead_unit_id: int | None = None) -> int:
    """A category through the catalogue service; returns its id."""
    from app.blueprints.catalogue import service
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id], is_platform=True):
        return service.create_category(tenant_id=tenant.id, actor=None, code=code, name=name,
                                       parent_id=parent_id, lead_unit_id=lead_unit_id).id


def make_notification(app, tenant: TenantRef, user: UserRef, *, kind: str = "test.notice") -> int:
    """An inbox message for one user; returns its id."""
    from sqlalchemy import select

    from app.blueprints.notifications import service
    from app.blueprints.notifications.models import Notification
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id], is_platform=True):
        recipient = db.session.get(User, user.id)
        service.notify(tenant_id=tenant.id, recipients=[recipient], kind=kind, title="测试消息",
                       cause=f"{kind}-{user.id}")
        db.session.commit()
        return db.session.execute(select(Notification.id).where(
            Notification.recipient_user_id == user.id, Notification.kind == kind)).scalar_one()


def make_unit(app, tenant: TenantRef, *, name: str, short_name: str, duty_class: str = "other") -> int:
    """A unit through the units service; returns its id."""
    from app.blueprints.units import service
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id], is_platform=True):
        return service.create_unit(tenant_id=tenant.id, actor=None, name=name, short_name=short_name,
                                   duty_class=duty_class, responsibilities=[]).id


def make_roster_rows(app, tenant: TenantRef, responder: UserRef) -> tuple[int, int]:
    """One rotation pattern and one extra-shift override for the responder's unit: (pattern id, override id)."""
    from datetime import UTC, date, datetime, time

    from app.blueprints.rosters import service
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope([tenant.id]):
        pattern = service.create_pattern(actor=None, unit_id=responder.unit_id, name="probe",
                                         starts_on=date(2026, 3, 1), start_time=time(8, 0), shift_hours=24,
                                         user_ids=[responder.id])
        override = service.create_override(tenant=db.session.get(Tenant, tenant.id), actor=None,
                                           unit_id=responder.unit_id, kind="extra", user_id=responder.id,
                                           starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                                           ends_at=datetime(2026, 1, 1, 1, tzinfo=UTC))
        return pattern.id, override.id
