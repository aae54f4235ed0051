"""`flask demo seed`: the demo district 凉州区 (620602) with one user per role.

Idempotent: running it again changes nothing and prints the same credentials.
Later issues extend it with catalogue, duty rosters and incidents.
"""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.blueprints.units.models import Unit
from app.blueprints.users import service as users
from app.blueprints.users.models import User
from app.tenants import service as tenants
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant

DEMO_CODE = "620602"
DEMO_NAME = "凉州区"
DEMO_PASSWORD = "Liandong-2026"

# (username, display name, roles, unit short name)
DEMO_USERS = [
    ("platform", "平台管理员", ["platform_admin"], None),
    ("gansu", "甘肃省督导", ["provincial_supervisor"], None),
    ("office", "联动办公室", ["tenant_admin"], None),
    ("desk", "110报警服务台", ["dispatcher"], None),
    ("leader", "领导小组", ["leader"], None),
    ("water-liaison", "建设局联络员", ["unit_liaison"], "建设"),
    ("water-leader", "建设局分管负责人", ["unit_leader"], "建设"),
    ("water-crew", "供排水抢修队员", ["responder"], "建设"),
]

demo_cli = AppGroup("demo", help="Demo data.")


def seed() -> list[tuple[str, str, str]]:
    with tenant_scope(is_platform=True):
        tenant = next((t for t in tenants.list_tenants() if t.code == DEMO_CODE), None)
        if tenant is None:
            tenant = tenants.create_tenant(code=DEMO_CODE, name=DEMO_NAME, template="liangzhou")
        tenant_id = tenant.id
    created = []
    with tenant_scope([tenant_id], is_platform=True):
        from app.extensions import db

        tenant = db.session.get(Tenant, tenant_id)
        for username, display_name, roles, unit_short in DEMO_USERS:
            is_district_user = roles[0] not in ("platform_admin", "provincial_supervisor")
            if db.session.execute(select(User).where(User.username == username)).first() is None:
                unit_id = None
                if unit_short:
                    unit_id = db.session.execute(
                        select(Unit.id).where(Unit.tenant_id == tenant_id, Unit.short_name == unit_short)
                    ).scalar_one()
                users.create_user(tenant=tenant if is_district_user else None, actor=None,
                                  username=username, display_name=display_name, password=DEMO_PASSWORD,
                                  roles=roles, unit_id=unit_id,
                                  province_code=tenant.province_code if not is_district_user else None)
            created.append((username, DEMO_PASSWORD, ",".join(roles)))
    return created


@demo_cli.command("seed")
def seed_command():
    """Create the demo district and users (safe to run twice)."""
    accounts = seed()
    click.echo(f"Demo district {DEMO_CODE} {DEMO_NAME}. Accounts (username / password / roles):")
    for username, password, roles in accounts:
        click.echo(f"  {username:<14} {password:<14} {roles}")
