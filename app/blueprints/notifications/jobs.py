"""Delivery jobs (RQ, `delivery` queue, served first by the worker's delivery process). Jobs are hints:
the outbox rows say what is still to send, so a lost, duplicated or late job does no harm; the outbox
sweep (`sweep_outbox`, every REMINDER_SWEEP_SECONDS from the cron) delivers anything due.
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from app.blueprints.notifications import delivery
from app.tenants.context import tenant_scope
from worker.context import each_tenant, in_app_context

log = logging.getLogger(__name__)


def _kick_key(tenant_id: int) -> str:
    return f"liandong:deliver-kicked:{tenant_id}"


@in_app_context
def deliver(tenant_id: int) -> dict:
    """Send one tenant's due outbox rows, in batches; schedule the next retry if one is waiting."""
    try:
        current_app.extensions["liandong_redis"].delete(_kick_key(tenant_id))  # later kicks queue another round
    except Exception:  # noqa: BLE001 - Redis trouble: deliver anyway
        pass
    with tenant_scope([tenant_id]):
        # One batch per job: a backlog goes round by round, taking turns with the timers' jobs.
        outcome = delivery.deliver_due(tenant_id, max_rounds=1)
    if outcome["more"]:
        kick(tenant_id)
    if outcome["next_retry_at"] is not None:
        kick(tenant_id, at=outcome["next_retry_at"])
    outcome["next_retry_at"] = outcome["next_retry_at"] and outcome["next_retry_at"].isoformat()
    return outcome


def kick(tenant_id: int, at: datetime | None = None) -> bool:
    """Queue a delivery round (now, or at a retry time). Redis trouble only delays it: the sweep delivers."""
    from worker.queues import queue_for

    try:
        redis = current_app.extensions["liandong_redis"]
        queue = queue_for(deliver, redis)
        if at is None:
            # One queued round per tenant is enough: it delivers whatever is due when it runs.
            if redis.set(_kick_key(tenant_id), 1, nx=True, ex=60):
                queue.enqueue(deliver, tenant_id, result_ttl=600, failure_ttl=86400)
        else:
            queue.enqueue_at(at, deliver, tenant_id, job_id=f"deliver-{tenant_id}-{int(at.timestamp())}",
                             result_ttl=600, failure_ttl=86400)
        return True
    except Exception:  # noqa: BLE001 - Redis down: the sweep delivers
        log.warning("could not enqueue delivery", extra={"tenant_id": tenant_id}, exc_info=True)
        return False


def sweep_outbox_tenant(tenant_id: int) -> dict:
    """A few rounds of one tenant's due rows; a backlog goes on in delivery jobs, taking turns."""
    with tenant_scope([tenant_id]):
        delivered = delivery.deliver_due(tenant_id, max_rounds=3)
    if delivered["more"]:
        kick(tenant_id)
    if delivered["next_retry_at"] is not None:
        kick(tenant_id, at=delivered["next_retry_at"])
    return {key: delivered[key] for key in ("sent", "retry", "failed")}


@in_app_context
def sweep_outbox() -> dict:
    """Every tenant, one at a time, each in its own scope: deliver the due rows. A lost delivery job, a
    flushed Redis or a worker killed mid-send (its lease runs out) costs at most one interval."""
    return each_tenant("outbox sweep", sweep_outbox_tenant, {"sent": 0, "retry": 0, "failed": 0})
