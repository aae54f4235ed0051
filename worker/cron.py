"""The periodic sweeps, run by RQ's CronScheduler in a child process of `python -m worker`."""
from __future__ import annotations

from redis import Redis
from rq.cron import CronScheduler

from worker.queues import CRITICAL, DEFAULT, DELIVERY

CRON_NAME = "liandong-cron"


def build_cron(redis_url: str, sweep_seconds: int, reminder_sweep_seconds: int = 10) -> CronScheduler:
    from app.blueprints.notifications.jobs import sweep_outbox
    from app.blueprints.ops.jobs import sweep_maintenance
    from app.blueprints.reminders.jobs import sweep as sweep_reminders
    from app.blueprints.routing.jobs import train_all_routing_models

    cron = CronScheduler(connection=Redis.from_url(redis_url), name=CRON_NAME)
    # Timers and the outbox: a lost job, a flushed Redis or a dead worker costs at most one interval.
    interval = max(1, min(reminder_sweep_seconds, 15))
    cron.register(sweep_reminders, queue_name=CRITICAL, interval=interval, result_ttl=60, job_timeout=600)
    cron.register(sweep_outbox, queue_name=DELIVERY, interval=interval, result_ttl=60, job_timeout=600)
    cron.register(sweep_maintenance, queue_name=DEFAULT, interval=max(sweep_seconds, 60 * 10))
    # Confirmed choices already queue a retrain after commit; this catches any lost job.
    cron.register(train_all_routing_models, queue_name=DEFAULT, interval=60 * 60)
    return cron


def run_cron(redis_url: str, sweep_seconds: int, reminder_sweep_seconds: int = 10) -> None:
    """Entry point of the cron child process (a module-level function, so `spawn` can find it)."""
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: its stacks on stderr
    build_cron(redis_url, sweep_seconds, reminder_sweep_seconds).start()
