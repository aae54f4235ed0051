"""`python -m worker`: an RQ worker on every queue, with RQ's scheduler, plus the cron sweeps.

The cron scheduler runs in a child process; RQ's scheduler (for `enqueue_at`) runs
inside the worker (`with_scheduler=True`). Jobs are hints: each re-reads its rows
in PostgreSQL, so a lost or duplicated job does no harm.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys

from rq import SimpleWorker
from rq.cron import CronScheduler

from worker.context import get_app
from worker.queues import DEFAULT, QUEUES

log = logging.getLogger("liandong.worker")


def run_cron(redis_url: str, sweep_seconds: int) -> None:
    from redis import Redis

    from app.blueprints.ops.jobs import sweep_maintenance
    from app.blueprints.routing.jobs import train_all_routing_models

    cron = CronScheduler(connection=Redis.from_url(redis_url), name="liandong-cron")
    cron.register(sweep_maintenance, queue_name=DEFAULT, interval=max(sweep_seconds, 60 * 10))
    # Confirmed choices already queue a retrain after commit; this catches any lost job.
    cron.register(train_all_routing_models, queue_name=DEFAULT, interval=60 * 60)
    cron.start()


def main() -> int:
    app = get_app()
    settings = app.extensions["liandong_settings"]
    redis = app.extensions["liandong_redis"]
    cron = multiprocessing.get_context("spawn").Process(
        target=run_cron, args=(settings.redis_url, settings.sweep_seconds), daemon=True, name="cron")
    cron.start()
    try:
        with app.app_context():
            # SimpleWorker runs jobs in this process, inside the app context; a job that dies
            # loses nothing: its truth is in PostgreSQL and the sweeps pick it up again.
            worker = SimpleWorker(list(QUEUES), connection=redis)
            worker.work(with_scheduler=True, logging_level=settings.log_level)
    finally:
        cron.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
