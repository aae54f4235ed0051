"""Reminder jobs (RQ, `critical` queue): the per-timer trigger and the sweep.

- `fire_timer(tenant_id, timer_id, token)` is scheduled with `enqueue_at(due_at)` after the issuing
  commit, job id `timer-<tenant>-<id>-<token>`. RQ's scheduler keeps whole seconds, so it may start up
  to a second early: the job then waits out the remainder (at most REMINDER_EARLY_WAIT_MS) and never
  fires early. It fires its own timer and, as the batch workhorse, every other timer of the tenant due
  by then. A stale (moved, cancelled, fired) or duplicate job does nothing.
- `sweep()` runs every REMINDER_SWEEP_SECONDS from the cron: every tenant's past-due timers are fired
  in batches (a Redis flush, a dead worker or a lost job costs at most one interval), the jobs of the
  timers due before the next sweep are scheduled again (idempotent: same job id), so after a flush only
  the timers due before the first sweep wait for a sweep; and the outbox's due rows are delivered.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime

from flask import current_app

from app.blueprints.notifications import delivery
from app.blueprints.notifications import jobs as notification_jobs
from app.blueprints.reminders import firing
from app.blueprints.reminders.models import FiredBy, job_id
from app.common.models import utcnow
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.service import list_tenants
from worker.context import in_app_context

log = logging.getLogger(__name__)


def _settings():
    return current_app.extensions["liandong_settings"]


@in_app_context
def fire_timer(tenant_id: int, timer_id: int, token: int) -> str:
    """The precise trigger of one timer (see the module docstring). Returns what it did."""
    settings = _settings()
    with tenant_scope([tenant_id]):
        due_at = firing.pending_due_at(timer_id, token)
        if due_at is None:
            return "stale"
        wait = (due_at - utcnow()).total_seconds()
        if wait > settings.reminder_early_wait_ms / 1000:
            return "early"  # not ours to wait this long: the sweep (or a rescheduled job) fires it
        if wait > 0:
            time.sleep(wait)
        own = firing.fire_batch(tenant_id, limit=1, fired_by=FiredBy.JOB, timer_id=timer_id)
        rest = firing.fire_due(tenant_id, fired_by=FiredBy.JOB, limit=settings.reminder_batch_size)
    if own["external"] or rest["external"]:
        notification_jobs.kick(tenant_id)
    if own["fired"]:
        return "fired"
    return "cancelled" if own["cancelled"] else ("busy" if own["busy"] else "duplicate")


def enqueue_timers(items: list[tuple[int, int, int, datetime]]) -> int:
    """After commit: one scheduled job per timer, in one Redis round trip. Redis trouble is logged, not
    raised: the work is committed, and the sweep fires the timers."""
    from rq import Queue

    from worker.queues import queue_for

    try:
        redis = current_app.extensions["liandong_redis"]
        queue: Queue = queue_for(fire_timer, redis)
        with redis.pipeline() as pipe:
            for tenant_id, timer_id, token, due_at in items:
                job = queue.create_job(fire_timer, args=(tenant_id, timer_id, token),
                                       job_id=job_id(tenant_id, timer_id, token), result_ttl=600,
                                       failure_ttl=86400, timeout=120)
                queue.schedule_job(job, due_at, pipeline=pipe)
            pipe.execute()
        return len(items)
    except Exception:  # noqa: BLE001 - Redis down: the sweep fires the timers
        log.warning("could not schedule timer jobs", extra={"timers": len(items)}, exc_info=True)
        return 0


def rearm(tenant_id: int, horizon_seconds: float) -> int:
    """Schedule again the jobs of timers falling due before the next sweep. Scheduling is idempotent (the
    same job id), so this costs one Redis round trip; after a flush or a lost job it puts the precise
    trigger back, and only timers due before this sweep ran wait for the sweep itself."""
    rows = firing.pending_between(tenant_id, horizon_seconds)
    return enqueue_timers([(tenant_id, timer_id, token, due_at) for timer_id, token, due_at in rows]) if rows else 0


def sweep_tenant(tenant_id: int) -> dict:
    settings = _settings()
    with tenant_scope([tenant_id]):
        fired = firing.fire_due(tenant_id, fired_by=FiredBy.SWEEP, limit=settings.reminder_batch_size)
        rearm(tenant_id, settings.reminder_sweep_seconds * 1.5)
        delivered = delivery.deliver_due(tenant_id)
    if delivered["next_retry_at"] is not None:
        notification_jobs.kick(tenant_id, at=delivered["next_retry_at"])
    return {"fired": fired["fired"], "cancelled": fired["cancelled"], "busy": fired["busy"],
            "sent": delivered["sent"], "retry": delivered["retry"], "failed": delivered["failed"]}


@in_app_context
def sweep() -> dict:
    """Every tenant, one at a time, each in its own scope: fire past-due timers, deliver due rows."""
    total = {"fired": 0, "cancelled": 0, "busy": 0, "sent": 0, "retry": 0, "failed": 0}
    with tenant_scope(is_platform=True):
        tenant_ids = [tenant.id for tenant in list_tenants()]
        db.session.rollback()
    for tenant_id in tenant_ids:
        try:
            counts = sweep_tenant(tenant_id)
        except Exception:  # noqa: BLE001 - one tenant's trouble must not stop the others
            db.session.rollback()
            log.exception("reminder sweep failed for a tenant", extra={"tenant_id": tenant_id})
            continue
        for key, value in counts.items():
            total[key] += value
    if any(total.values()):
        log.info("reminder sweep", extra=total)
    return total
