"""`flask demo seed`: the demo district 凉州区 (620602) from the Liangzhou template, with one user per
district role, a team (liaison, leader, two responders) for a handful of linkage units, their duty
rosters, and a dozen incidents in every state (app/blueprints/incidents/demo.py).

Idempotent: running it again changes nothing and prints the same credentials.
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

# (username prefix, unit short name in the template, unit as people say it, responder title),
# in the order of Article 7. `water-*` were the first demo team and keep their usernames.
DEMO_TEAMS = [
    ("police", "公安", "公安局", "处警民警"),
    ("civil", "民政", "民政局", "救助站工作人员"),
    ("water", "建设", "建设局", "供排水抢修队员"),
    ("lift", "质监", "质监局", "电梯救援人员"),
    ("power", "供电", "供电公司", "电力抢修队员"),
    ("gas", "天然气", "天然气公司", "燃气抢险队员"),
]

# (username, display name, roles, unit short name)
DEMO_USERS = [
    ("platform", "平台管理员", ["platform_admin"], None),
    ("gansu", "甘肃省督导", ["provincial_supervisor"], None),
    ("office", "联动办公室", ["tenant_admin"], None),
    ("desk", "110报警服务台", ["dispatcher"], None),
    ("leader", "领导小组", ["leader"], None),
] + [user for prefix, unit, label, crew in DEMO_TEAMS for user in (
    (f"{prefix}-liaison", f"{label}联络员", ["unit_liaison"], unit),
    (f"{prefix}-leader", f"{label}分管负责人", ["unit_leader"], unit),
    (f"{prefix}-crew", crew, ["responder"], unit),
    (f"{prefix}-crew-2", f"{crew}（二）", ["responder"], unit),
)]

demo_cli = AppGroup("demo", help="Demo data.")


def seed() -> list[tuple[str, str, str]]:
    with tenant_scope(is_platform=True):
        tenant = next((t for t in tenants.list_tenants() if t.code == DEMO_CODE), None)
        if tenant is None:
            tenant = tenants.create_tenant(code=DEMO_CODE, name=DEMO_NAME, template="liangzhou")
        tenant_id = tenant.id
    accounts = []
    with tenant_scope([tenant_id], is_platform=True):
        from app.extensions import db

        tenant = db.session.get(Tenant, tenant_id)
        units = {unit.short_name: unit for unit in db.session.execute(select(Unit).where(
            Unit.tenant_id == tenant_id, Unit.short_name.in_([team[1] for team in DEMO_TEAMS]))).scalars()}
        existing = {user.username: user for user in db.session.execute(select(User).where(
            User.username.in_([username for username, *_ in DEMO_USERS]))).unique().scalars()}
        teams: dict[str, list[User]] = {}
        for username, display_name, roles, unit_short in DEMO_USERS:
            is_district_user = roles[0] not in ("platform_admin", "provincial_supervisor")
            user = existing.get(username) or users.create_user(
                tenant=tenant if is_district_user else None, actor=None, username=username,
                display_name=display_name, password=DEMO_PASSWORD, roles=roles,
                unit_id=units[unit_short].id if unit_short else None,
                province_code=tenant.province_code if not is_district_user else None)
            if unit_short:
                teams.setdefault(unit_short, []).append(user)
            accounts.append((username, DEMO_PASSWORD, ",".join(roles)))
        for unit_short, team in teams.items():
            # Responders first: the rotation hands duty round the team in this order.
            seed_roster(tenant, units[unit_short], sorted(team, key=lambda user: "responder" not in user.roles))
        from app.blueprints.incidents.demo import seed_demo_incidents

        seed_demo_incidents(tenant)
    return accounts


def seed_roster(tenant: Tenant, unit: Unit, team: list[User]) -> None:
    """Hook: a demo unit's duty roster (值班备勤), seeded by the rosters domain when it is present.

    `app.blueprints.rosters.demo.seed_demo_roster(tenant, unit, users)` runs inside the demo
    district's scope after the unit's users exist, and is idempotent like the rest of the demo.
    """
    try:
        from app.blueprints.rosters.demo import seed_demo_roster
    except ModuleNotFoundError as missing:
        if missing.name not in ("app.blueprints.rosters", "app.blueprints.rosters.demo"):
            raise
        return
    seed_demo_roster(tenant, unit, team)


@demo_cli.command("seed")
def seed_command():
    """Create the demo district and users (safe to run twice)."""
    accounts = seed()
    click.echo(f"Demo district {DEMO_CODE} {DEMO_NAME}. Accounts (username / password / roles):")
    for username, password, roles in accounts:
        click.echo(f"  {username:<14} {password:<14} {roles}")
