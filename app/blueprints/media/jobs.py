"""Media jobs (RQ, `media` queue): make a photo's served copies; and the sweep's media duties.

Jobs are hints: the blob row in PostgreSQL says what is still to do (`processing.process_blob`
locks it, checks it is pending, acts once). The sweep re-queues photos whose job was lost and
applies the retention policy for originals (MEDIA_ORIGINAL_RETENTION_DAYS).
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.blueprints.media import processing
from app.blueprints.media.models import MediaBlob, ProcessingState
from app.blueprints.media.storage import get_storage, keys, settings
from app.common.models import utcnow
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.service import list_tenants
from worker.context import in_app_context

log = logging.getLogger(__name__)
REQUEUE_AFTER = timedelta(minutes=2)


@in_app_context
def process_media(tenant_id: int, sha256: str) -> str:
    """Make one photo's display copy and thumbnail, in that tenant's scope only."""
    with tenant_scope([tenant_id]):
        outcome = processing.process_blob(tenant_id=tenant_id, sha256=sha256)
    log.info("media processed", extra={"tenant_id": tenant_id, "sha256": sha256, "outcome": outcome})
    return outcome


def enqueue(tenant_id: int, sha256: str) -> bool:
    """Queue the processing of one photo; Redis trouble only delays it (the sweep re-queues)."""
    from worker.queues import queue_for

    try:
        queue_for(process_media, current_app.extensions["liandong_redis"]).enqueue(
            process_media, tenant_id, sha256, job_timeout=300, result_ttl=3600, failure_ttl=86400)
        return True
    except Exception:
        log.warning("could not enqueue media processing", extra={"tenant_id": tenant_id, "sha256": sha256},
                    exc_info=True)
        return False


def sweep_media() -> dict:
    """Called by the maintenance sweep: per tenant, re-queue lost jobs and delete expired originals."""
    requeued = originals_deleted = 0
    retention_days = settings().media_original_retention_days
    for tenant in list_tenants():
        with tenant_scope([tenant.id]):
            try:
                requeued += _requeue_pending(tenant.id)
                if retention_days > 0:
                    originals_deleted += _apply_retention(tenant.id, retention_days)
            except Exception:  # storage or Redis trouble must not stop the other housekeeping
                db.session.rollback()
                log.warning("media sweep failed for a tenant", extra={"tenant_id": tenant.id}, exc_info=True)
    summary = {"media_requeued": requeued, "media_originals_deleted": originals_deleted}
    log.info("media sweep", extra=summary)
    return summary


def _requeue_pending(tenant_id: int) -> int:
    stale = utcnow() - REQUEUE_AFTER
    shas = list(db.session.execute(select(MediaBlob.sha256).where(
        MediaBlob.state == ProcessingState.PENDING.value,
        (MediaBlob.enqueued_at.is_(None)) | (MediaBlob.enqueued_at < stale))).scalars())
    if shas:
        db.session.execute(update(MediaBlob).where(MediaBlob.sha256.in_(shas)).values(enqueued_at=utcnow()))
    db.session.commit()
    return sum(enqueue(tenant_id, sha) for sha in shas)


def _apply_retention(tenant_id: int, days: int) -> int:
    """Delete originals older than the policy once their copies exist; the row keeps the evidence."""
    cutoff = utcnow() - timedelta(days=days)
    storage = get_storage()
    deleted = 0
    blobs = list(db.session.execute(select(MediaBlob).where(
        MediaBlob.state == ProcessingState.READY.value, MediaBlob.original_deleted_at.is_(None),
        MediaBlob.created_at < cutoff).with_for_update(skip_locked=True)).scalars())
    for blob in blobs:
        storage.delete(keys.original(tenant_id, blob.sha256))
        blob.original_deleted_at = utcnow()
        deleted += 1
    db.session.commit()
    return deleted
