"""Reminder jobs (RQ, `critical` queue): the precise triggers and the sweep.

- After the issuing commit each timer's due second is scheduled with `enqueue_at`: job
  `fire_second(tenant_id, second)`, id `timer-<tenant>-<epoch second>`, shared by the tenant's timers due
  in that second. RQ's scheduler keeps whole seconds, so the job starts at the start of the second or
  after; it waits for each timer to fall due (never firing early) and fires the batch. A duplicate or
  stale job finds nothing pending and does nothing.
- `fire_timer(tenant_id, timer_id, token)` triggers one timer (a stale token or a fired timer: nothing;
  up to REMINDER_EARLY_WAIT_MS early: it waits), then fires the tenant's other due timers too.
- `sweep()` runs every REMINDER_SWEEP_SECONDS from the cron: every tenant's past-due timers are handed
  to `fire_overdue` jobs, which every worker process may take (a Redis flush, a dead worker or a lost
  job costs at most one interval; if Redis is unreachable the sweep fires them itself), and the jobs of the
  timers due before the next sweep are scheduled again (idempotent: same job id), so after a flush only
  the timers due before the first sweep wait for a sweep. The outbox has its own sweep
  (`notifications.jobs.sweep_outbox`), run by the delivery process.
"""
from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime

from flask import current_app

from app.blueprints.notifications import jobs as notification_jobs
from app.blueprints.reminders import firing
from app.blueprints.reminders.models import FiredBy, job_id
from app.common.models import utcnow
from app.tenants.context import tenant_scope
from worker.context import each_tenant, in_app_context

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
            # RQ's scheduler keeps whole seconds, so a job may start up to a second before its due time;
            # waiting out that fraction (at most REMINDER_EARLY_WAIT_MS) keeps the step from firing early.
            time.sleep(wait)
        own = firing.fire_batch(tenant_id, limit=1, fired_by=FiredBy.JOB, timer_id=timer_id)
        rest = firing.fire_due(tenant_id, fired_by=FiredBy.JOB, limit=settings.reminder_batch_size)
    if own["external"] or rest["external"]:
        notification_jobs.kick(tenant_id)
    if own["fired"]:
        return "fired"
    return "cancelled" if own["cancelled"] else ("busy" if own["busy"] else "duplicate")


@in_app_context
def fire_second(tenant_id: int, second: int) -> dict:
    """The precise trigger of every timer of a tenant due in one whole second `[second, second + 1)`.

    RQ's scheduler keeps whole seconds, so this starts at `second` or a little after: it fires what is
    due, waits for the next timer of that second to fall due (never firing one early; at least
    REMINDER_SLICE_MS, so a dense second is fired in a few batches rather than one transaction per
    timer), and so on to the end of the second. Whatever else of the tenant is due by then goes along.
    When other jobs are waiting it does not hold the worker for precision: it fires what is due and
    leaves the rest of its second to the next second's trigger (or the sweep).
    """
    from worker.queues import queue_for

    settings = _settings()
    queue = queue_for(fire_second, current_app.extensions["liandong_redis"])
    end = datetime.fromtimestamp(second + 1, UTC)
    total = {"fired": 0, "cancelled": 0, "busy": 0}
    with tenant_scope([tenant_id]):
        for _ in range(100):
            counts = firing.fire_due(tenant_id, fired_by=FiredBy.JOB, limit=settings.reminder_batch_size)
            for key in ("fired", "cancelled", "busy"):
                total[key] += counts[key]
            if counts["external"]:
                notification_jobs.kick(tenant_id)  # each slice's messages go out now, not after the second
            upcoming = firing.next_due_before(tenant_id, end)
            if upcoming is None:
                break
            wait = (upcoming - utcnow()).total_seconds()
            if wait > settings.reminder_early_wait_ms / 1000:
                break  # started far too early (clock trouble): the sweep or a later trigger fires it
            if queue.count > 0:
                # Other work is waiting (other seconds' or tenants' triggers): don't hold the worker for
                # precision. What is left of this second is fired by the next trigger or the sweep.
                total["yielded"] = True
                break
            # Dense seconds are fired in slices of REMINDER_SLICE_MS: a transaction per slice, not per timer.
            if wait > 0:
                time.sleep(max(wait, settings.reminder_slice_ms / 1000))
    return total


def tick_job_id(tenant_id: int, second: int) -> str:
    return f"timer-{tenant_id}-{second}"


def enqueue_timers(items: list[tuple[int, int, int, datetime]]) -> int:
    """After commit: schedule the trigger of each timer's due second, `timer-<tenant>-<epoch second>`.

    Timers due in the same second share one job (RQ's scheduler has whole-second resolution anyway), so
    10,000 timers in a minute are at most 60 jobs per tenant, not 10,000: one RQ job per timer cannot keep
    up (issue 6). Scheduling the same second again overwrites the same job: idempotent. Redis trouble is
    logged, not raised: the work is committed, and the sweep fires the timers.
    """
    from rq import Queue

    from worker.queues import queue_for

    seconds = sorted({(tenant_id, math.floor(due_at.timestamp())) for tenant_id, _, _, due_at in items})
    try:
        redis = current_app.extensions["liandong_redis"]
        queue: Queue = queue_for(fire_second, redis)
        with redis.pipeline() as pipe:
            for tenant_id, second in seconds:
                job = queue.create_job(fire_second, args=(tenant_id, second), job_id=tick_job_id(tenant_id, second),
                                       result_ttl=600, failure_ttl=86400, timeout=120)
                queue.schedule_job(job, datetime.fromtimestamp(second, UTC), pipeline=pipe)
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


# Overdue timers found by a sweep are handed to this many `fire_overdue` jobs at most, so that every
# worker process can take a share (their claims are SKIP LOCKED) while the sweep itself stays short.
OVERDUE_JOBS = 4


@in_app_context
def fire_overdue(tenant_id: int) -> dict:
    """Fire the tenant's past-due timers in batches (the sweep's hand-over); duplicates find nothing."""
    with tenant_scope([tenant_id]):
        fired = firing.fire_due(tenant_id, fired_by=FiredBy.SWEEP, limit=_settings().reminder_batch_size)
    if fired["external"]:
        notification_jobs.kick(tenant_id)
    return {key: fired[key] for key in ("claimed", "fired", "cancelled", "busy")}


def hand_over(tenant_id: int, overdue: int) -> int:
    """Queue `fire_overdue` jobs for `overdue` past-due timers; how many jobs (0: Redis unreachable)."""
    from worker.queues import queue_for

    jobs = min(OVERDUE_JOBS, math.ceil(overdue / _settings().reminder_batch_size))
    try:
        queue = queue_for(fire_overdue, current_app.extensions["liandong_redis"])
        with queue.connection.pipeline() as pipe:
            for _ in range(jobs):
                queue.enqueue(fire_overdue, tenant_id, result_ttl=600, failure_ttl=86400, pipeline=pipe)
            pipe.execute()
        return jobs
    except Exception:  # noqa: BLE001 - Redis down: the sweep fires them itself
        log.warning("could not hand overdue timers to jobs", extra={"tenant_id": tenant_id}, exc_info=True)
        return 0


def sweep_tenant(tenant_id: int, *, inline: bool = False) -> dict:
    """One tenant: past-due timers are handed to `fire_overdue` jobs (or, with `inline` or Redis
    unreachable, fired here), and the triggers of the timers due before the next sweep re-armed."""
    settings = _settings()
    counts = {"fired": 0, "cancelled": 0, "busy": 0, "handed_over": 0}
    with tenant_scope([tenant_id]):
        overdue = 0 if inline else firing.count_due(tenant_id, at_most=OVERDUE_JOBS * settings.reminder_batch_size)
        if overdue:
            counts["handed_over"] = overdue if hand_over(tenant_id, overdue) else 0
        if inline or (overdue and not counts["handed_over"]):
            fired = firing.fire_due(tenant_id, fired_by=FiredBy.SWEEP, limit=settings.reminder_batch_size)
            counts.update({key: fired[key] for key in ("fired", "cancelled", "busy")})
            if fired["external"]:
                notification_jobs.kick(tenant_id)  # the outbox sweep would deliver them too, a sweep later
        rearm(tenant_id, settings.reminder_sweep_seconds * 1.5)
    return counts


@in_app_context
def sweep() -> dict:
    """Every tenant, one at a time, each in its own scope: hand past-due timers to jobs, re-arm the next."""
    return each_tenant("reminder sweep", sweep_tenant, {"fired": 0, "cancelled": 0, "busy": 0, "handed_over": 0})
