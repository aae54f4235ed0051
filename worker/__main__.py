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

from worker.context import get_app
from worker.cron import run_cron
from worker.queues import QUEUES

log = logging.getLogger("liandong.worker")


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
