"""`flask tenants create|list`: provisioning districts from the command line."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.errors import DomainError
from app.tenants import service
from app.tenants.context import tenant_scope
from app.tenants.templates import TEMPLATES

tenants_cli = AppGroup("tenants", help="Manage tenants (districts).")


def fail(error: DomainError):
    raise click.ClickException(f"{error.code}: {error.message} {error.errors or ''}".strip())


@tenants_cli.command("create")
@click.option("--code", required=True, help="6-digit division code, e.g. 620602")
@click.option("--name", required=True, help="District name, e.g. 凉州区")
@click.option("--province", "province_code", help="Province code; defaults to the code's first two digits + 0000")
@click.option("--time-zone", default="Asia/Shanghai", show_default=True)
@click.option("--template", type=click.Choice(sorted(TEMPLATES)), help="Provision units from a template")
def create(code, name, province_code, time_zone, template):
    """Create a district."""
    with tenant_scope(is_platform=True):
        try:
            tenant = service.create_tenant(code=code, name=name, province_code=province_code,
                                           time_zone=time_zone, template=template)
            click.echo(f"created tenant {tenant.code} {tenant.name} (id {tenant.id})")
        except DomainError as error:
            fail(error)


@tenants_cli.command("list")
def list_():
    """List districts."""
    for tenant in service.list_tenants():
        click.echo(f"{tenant.code}\t{tenant.name}\t{tenant.province_code}\t{tenant.time_zone}\t{tenant.status}")
