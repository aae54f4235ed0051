"""`flask media …`: operators' tools for photos (register `media_cli` in app.register_cli)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

media_cli = AppGroup("media", help="Photos from the scene: processing and housekeeping.")


@media_cli.command("requeue-failed")
@click.option("--tenant", "tenant_code", default=None, help="Only this district (its code); default all.")
def requeue_failed_command(tenant_code: str | None) -> None:
    """Give photos whose copies failed another set of attempts, and queue them."""
    from app.blueprints.media.jobs import requeue_failed
    from app.tenants.service import list_tenants

    tenant_id = None
    if tenant_code is not None:
        matches = [t.id for t in list_tenants() if t.code == tenant_code]
        if not matches:
            raise click.ClickException(f"no district with code {tenant_code}")
        tenant_id = matches[0]
    click.echo(f"re-queued {requeue_failed(tenant_id)} photo(s)")


@media_cli.command("sweep")
def sweep_command() -> None:
    """Run the media part of the maintenance sweep now."""
    from app.blueprints.media.jobs import sweep_media

    click.echo(sweep_media())
