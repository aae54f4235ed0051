"""`python -m worker`: an RQ worker on every queue, with RQ's scheduler, plus the cron sweeps.

The cron scheduler runs in a child process; RQ's scheduler (for `enqueue_at`) runs
inside the worker (`with_scheduler=True`). Jobs are hints: each re-reads its rows
in PostgreSQL, so a lost or duplicated job does no harm.

SIGTERM (or Ctrl-C) is a warm shutdown: RQ lets the running job finish (a job walking every tenant
stops after the current tenant: `worker.context.until_shutdown`), `work()` returns, and the cron child
is stopped and reaped. A second SIGTERM stops at once; whatever a killed job left
half done is still pending in PostgreSQL and the next sweep finishes it.
"""
from __future__ import annotations

import logging
import multiprocessing
import signal
import sys

from rq import SimpleWorker

from worker.context import get_app, request_shutdown
from worker.cron import run_cron
from worker.queues import QUEUES

log = logging.getLogger("liandong.worker")


def _stop_during_startup(signum, _frame) -> None:
    # RQ registers the worker before it installs its own SIGTERM handler; a SIGTERM in between would
    # kill the process outright. Until RQ's handler replaces this one, a stop request exits cleanly.
    raise SystemExit(0)


class Worker(SimpleWorker):
    """RQ's SimpleWorker that also tells long multi-tenant jobs to stop between tenants."""

    def request_stop(self, signum, frame):
        request_shutdown()
        super().request_stop(signum, frame)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_during_startup)
    signal.signal(signal.SIGINT, _stop_during_startup)
    app = get_app()
    settings = app.extensions["liandong_settings"]
    redis = app.extensions["liandong_redis"]
    cron = multiprocessing.get_context("spawn").Process(
        target=run_cron, args=(settings.redis_url, settings.sweep_seconds, settings.reminder_sweep_seconds),
        daemon=True, name="cron")
    cron.start()
    try:
        with app.app_context():
            # SimpleWorker runs jobs in this process, inside the app context; a job that dies
            # loses nothing: its truth is in PostgreSQL and the sweeps pick it up again.
            worker = Worker(list(QUEUES), connection=redis)
            worker.work(with_scheduler=True, logging_level=settings.log_level)
    finally:
        cron.terminate()
        cron.join(timeout=10)
        log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
