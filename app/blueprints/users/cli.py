"""`flask users create`: accounts from the command line, including provincial and platform ones."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.blueprints.users import service
from app.common.roles import Role
from app.errors import DomainError
from app.tenants.cli import fail
from app.tenants.context import tenant_scope
from app.tenants.service import get_tenant

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--tenant", "tenant_code", help="District code, for district users")
@click.option("--province", "province_code", help="Province code, for provincial supervisors")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role]))
@click.option("--unit", "unit_id", type=int, help="Unit id, for unit roles")
@click.option("--name", "display_name", help="Display name; defaults to the username")
@click.option("--phone")
def create(tenant_code, province_code, username, password, roles, unit_id, display_name, phone):
    """Create a user."""
    if tenant_code and province_code:
        raise click.UsageError("give --tenant or --province, not both")
    try:
        tenant = get_tenant(tenant_code) if tenant_code else None
        with tenant_scope([tenant.id] if tenant else [], is_platform=True):
            user = service.create_user(tenant=tenant, actor=None, username=username, password=password,
                                       roles=list(roles), unit_id=unit_id, phone=phone,
                                       display_name=display_name or username, province_code=province_code)
            click.echo(f"created user {user.username} (id {user.id}) roles={','.join(user.roles)}")
    except DomainError as error:
        fail(error)
