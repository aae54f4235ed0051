"""Queue names, and which queue every job goes to: routing lives here and only here."""
from __future__ import annotations

from rq import Queue

CRITICAL = "critical"  # timers and their sweep: lateness is what the desk is promised
DELIVERY = "delivery"  # the outbox: SMS gateway, webhooks, e-mail (network waits, in batches)
DEFAULT = "default"
MEDIA = "media"        # image processing: slow, must not delay the others

# Every queue, in the main worker's listening order (priority order).
QUEUES = (CRITICAL, DELIVERY, DEFAULT, MEDIA)
# The delivery workers: the outbox first, then default and media. Not the timers: two processes firing
# at once contend for the same instructions' row locks (a batch skips the ones another holds), which
# cost more than it gave; one process fires, in batches, and leaves the other core to delivery.
DELIVERY_FIRST = (DELIVERY, DEFAULT, MEDIA)

JOB_QUEUES: dict[str, str] = {
    "app.blueprints.ops.jobs.sweep_maintenance": DEFAULT,
    "app.blueprints.routing.jobs.train_routing_model": DEFAULT,
    "app.blueprints.routing.jobs.train_all_routing_models": DEFAULT,
    "app.blueprints.media.jobs.process_media": MEDIA,
    "app.blueprints.reminders.jobs.fire_timer": CRITICAL,
    "app.blueprints.reminders.jobs.fire_second": CRITICAL,
    "app.blueprints.reminders.jobs.sweep": CRITICAL,
    "app.blueprints.reminders.jobs.fire_overdue": CRITICAL,
    "app.blueprints.notifications.jobs.deliver": DELIVERY,
    "app.blueprints.notifications.jobs.sweep_outbox": DELIVERY,
}


def queue_for(func, connection) -> Queue:
    name = JOB_QUEUES[f"{func.__module__}.{func.__name__}"]
    return Queue(name, connection=connection)
