"""`flask audit verify [--tenant CODE]`: prove the audit chains are untouched."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.blueprints.audit.service import verify_chain
from app.tenants.context import tenant_scope
from app.tenants.service import get_tenant, list_tenants

audit_cli = AppGroup("audit", help="Audit log tools.")


@audit_cli.command("verify")
@click.option("--tenant", "tenant_code", help="Verify one district's chain only.")
def verify(tenant_code: str | None) -> None:
    """Recompute every hash; exit 1 if any row was changed or deleted."""
    if tenant_code:
        targets = [get_tenant(tenant_code)]
    else:
        targets = [None, *list_tenants()]
    broken = False
    for tenant in targets:
        with tenant_scope([tenant.id] if tenant else [], is_platform=tenant is None):
            report = verify_chain(tenant.id if tenant else None)
        label = f"{tenant.code} {tenant.name}" if tenant else "platform"
        if report.is_intact:
            click.echo(f"OK      {label}: {report.events} events")
        else:
            broken = True
            click.echo(f"BROKEN  {label}: {report.events} events")
            for problem in report.problems:
                click.echo(f"        - {problem}")
    if broken:
        raise SystemExit(1)
