"""What every new tenant starts with, whatever its template (called by `create_tenant`)."""
from __future__ import annotations


def provision_defaults(tenant) -> None:
    """Create the tenant's default settings rows. Runs inside the creating transaction."""
    # Domains that need per-tenant defaults (time-limit policy, ...) add their call here.
    return None
