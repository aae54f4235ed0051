"""Housekeeping jobs: drop expired idempotency keys and refresh-token families."""
from __future__ import annotations

import logging

from sqlalchemy import delete, func

from app.blueprints.auth.models import TokenFamily
from app.blueprints.media import jobs as media
from app.common import idempotency
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.service import list_tenants
from worker.context import in_app_context, until_shutdown

log = logging.getLogger(__name__)


@in_app_context
def sweep_maintenance() -> dict:
    """One tenant at a time, each in its own scope (never one session across tenants)."""
    purged_keys = 0
    for tenant in until_shutdown(list_tenants()):
        with tenant_scope([tenant.id]):
            purged_keys += idempotency.purge_expired(tenant.id)
    # Login families of every user: visible only to a platform-wide scope (RLS via users).
    with tenant_scope(is_platform=True):
        result = db.session.execute(delete(TokenFamily).where(TokenFamily.expires_at < func.now()))
        db.session.commit()
    media.sweep_media()  # re-queues lost photo jobs, applies the originals' retention; logs its own summary
    summary = {"idempotency_keys": purged_keys, "token_families": result.rowcount}
    log.info("maintenance sweep", extra=summary)
    return summary
