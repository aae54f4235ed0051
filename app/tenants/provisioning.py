"""What every new tenant starts with, whatever its template (called by `create_tenant`)."""
from __future__ import annotations

from app.blueprints.timelimits.defaults import provision_time_limits


def provision_defaults(tenant) -> None:
    """Create the tenant's default settings rows. Runs inside the creating transaction."""
    provision_time_limits(tenant)
