"""Media jobs (RQ, `media` queue): make a photo's served copies; and the sweep's media duties.

Jobs are hints: the blob row in PostgreSQL says what is still to do (`processing.process_blob`
claims it, acts once). The sweep settles claims whose worker died, re-queues photos whose job was
lost or whose storage retry is due, applies the retention policy for originals
(MEDIA_ORIGINAL_RETENTION_DAYS) and removes temporary files left behind. `requeue_failed` is for
operators (`flask media requeue-failed`).
"""
from __future__ import annotations

import logging
import shutil
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from app.blueprints.media import processing
from app.blueprints.media.models import MediaBlob, ProcessingState
from app.blueprints.media.storage import get_storage, keys, settings
from app.common.models import utcnow
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.service import list_tenants
from worker.context import in_app_context, until_shutdown

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
            process_media, tenant_id, sha256, job_timeout=processing.JOB_TIMEOUT_SECONDS, result_ttl=3600,
            failure_ttl=86400)
        return True
    except Exception:
        log.warning("could not enqueue media processing", extra={"tenant_id": tenant_id, "sha256": sha256},
                    exc_info=True)
        return False


def sweep_media() -> dict:
    """Called by the maintenance sweep: per tenant, settle claims whose worker died, re-queue lost jobs
    and storage retries that are due, delete expired originals; then stale temporary files."""
    requeued = originals_deleted = stale_claims = 0
    retention_days = settings().media_original_retention_days
    for tenant in until_shutdown(list_tenants()):
        with tenant_scope([tenant.id]):
            try:
                stale_claims += _settle_stale_claims()
                requeued += _requeue_pending(tenant.id)
                if retention_days > 0:
                    originals_deleted += _apply_retention(tenant.id, retention_days)
            except Exception:  # storage or Redis trouble must not stop the other housekeeping
                db.session.rollback()
                log.warning("media sweep failed for a tenant", extra={"tenant_id": tenant.id}, exc_info=True)
    try:
        temp_files = sweep_temp_files()
    except Exception:
        temp_files = 0
        log.warning("media temp-file sweep failed", exc_info=True)
    summary = {"media_requeued": requeued, "media_originals_deleted": originals_deleted,
               "media_stale_claims": stale_claims, "media_temp_files_deleted": temp_files}
    log.info("media sweep", extra=summary)
    return summary


def _settle_stale_claims() -> int:
    """Claims older than the job timeout: the worker died mid-attempt (its attempt counted)."""
    blobs = list(db.session.execute(select(MediaBlob).where(
        MediaBlob.state == ProcessingState.PROCESSING.value,
        MediaBlob.claimed_at < utcnow() - processing.CLAIM_EXPIRES).with_for_update(skip_locked=True)).scalars())
    for blob in blobs:
        processing.release_stale_claim(blob)
    db.session.commit()
    return len(blobs)


def _requeue_pending(tenant_id: int) -> int:
    now = utcnow()
    stale = now - REQUEUE_AFTER
    shas = list(db.session.execute(select(MediaBlob.sha256).where(
        MediaBlob.state == ProcessingState.PENDING.value,
        (MediaBlob.enqueued_at.is_(None)) | (MediaBlob.enqueued_at < stale),
        (MediaBlob.next_attempt_at.is_(None)) | (MediaBlob.next_attempt_at <= now))).scalars())
    if shas:
        db.session.execute(update(MediaBlob).where(MediaBlob.sha256.in_(shas)).values(enqueued_at=utcnow()))
    db.session.commit()
    return sum(enqueue(tenant_id, sha) for sha in shas)


def _apply_retention(tenant_id: int, days: int) -> int:
    """Delete originals not uploaded again for longer than the policy, once their copies exist; the row
    keeps the evidence. An upload of the same content locks the row and refreshes `last_referenced_at`."""
    cutoff = utcnow() - timedelta(days=days)
    storage = get_storage()
    deleted = 0
    blobs = list(db.session.execute(select(MediaBlob).where(
        MediaBlob.state == ProcessingState.READY.value, MediaBlob.original_deleted_at.is_(None),
        MediaBlob.last_referenced_at < cutoff).with_for_update(skip_locked=True)).scalars())
    for blob in blobs:
        storage.delete(keys.original(tenant_id, blob.sha256))
        blob.original_deleted_at = utcnow()
        deleted += 1
    db.session.commit()
    return deleted


TEMP_PREFIXES = ("upload-", "derive-", "fetch-")
TEMP_MAX_AGE = timedelta(days=1)


def sweep_temp_files(max_age: timedelta = TEMP_MAX_AGE) -> int:
    """Temporary files a killed process left behind, older than a day: uploads being received,
    copies being made, originals fetched from S3 (under MEDIA_DIR/tmp), and the local store's
    half-written `.partial-*` files."""
    s = settings()
    root = Path(s.media_dir or s.var_dir / "media")
    cutoff = time.time() - max_age.total_seconds()
    deleted = 0
    candidates = []
    tmp = root / "tmp"
    if tmp.is_dir():
        candidates += [p for p in tmp.iterdir() if p.name.startswith(TEMP_PREFIXES)]
    store = root / "t"
    if store.is_dir():
        candidates += list(store.rglob(".partial-*"))
    for path in candidates:
        try:
            if path.lstat().st_mtime >= cutoff:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            deleted += 1
        except FileNotFoundError:
            continue
    return deleted


def requeue_failed(tenant_id: int | None = None) -> int:
    """Ops: give failed photos another MAX_ATTEMPTS (after a fix, or storage trouble that outlasted the
    retries) and queue them. All tenants unless one is named; returns how many were queued."""
    count = 0
    tenants = [t for t in list_tenants() if tenant_id is None or t.id == tenant_id]
    for tenant in tenants:
        with tenant_scope([tenant.id]):
            shas = list(db.session.execute(update(MediaBlob).where(
                MediaBlob.state == ProcessingState.FAILED.value).values(
                state=ProcessingState.PENDING.value, attempts=0, storage_errors=0, next_attempt_at=None,
                claimed_at=None, enqueued_at=utcnow()).returning(MediaBlob.sha256)).scalars())
            db.session.commit()
            for sha in shas:
                enqueue(tenant.id, sha)
            count += len(shas)
    return count
