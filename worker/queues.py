"""Queue names, and which queue every job goes to: routing lives here and only here."""
from __future__ import annotations

from rq import Queue

CRITICAL = "critical"  # reminders, notifications: latency matters
DEFAULT = "default"
MEDIA = "media"        # image processing: slow, must not delay the others

# Listening order is priority order.
QUEUES = (CRITICAL, DEFAULT, MEDIA)

JOB_QUEUES: dict[str, str] = {
    "app.blueprints.ops.jobs.sweep_maintenance": DEFAULT,
    "app.blueprints.routing.jobs.train_routing_model": DEFAULT,
    "app.blueprints.routing.jobs.train_all_routing_models": DEFAULT,
    "app.blueprints.media.jobs.process_media": MEDIA,
    "app.blueprints.reminders.jobs.fire_timer": CRITICAL,
    "app.blueprints.reminders.jobs.fire_second": CRITICAL,
    "app.blueprints.reminders.jobs.sweep": CRITICAL,
    "app.blueprints.notifications.jobs.deliver": CRITICAL,
}


def queue_for(func, connection) -> Queue:
    name = JOB_QUEUES[f"{func.__module__}.{func.__name__}"]
    return Queue(name, connection=connection)
