"""`python -m worker`: RQ workers on every queue, with RQ's scheduler, plus the cron sweeps.

Processes (one process group):
- this process: a worker listening `critical` first (the timers), then the outbox, default, media;
- DELIVERY_WORKERS children (default 1): workers listening to the outbox (`delivery`) first, then
  default and media (not the timers: see worker.queues). Firing and delivering thus run side by side
  on two cores, and if a child dies this process still serves every queue;
- the cron child (RQ's CronScheduler) enqueueing the sweeps.
RQ's scheduler (for `enqueue_at`) runs inside the workers (`with_scheduler=True`). Jobs are hints: each
re-reads its rows in PostgreSQL, so a lost or duplicated job does no harm.

SIGTERM (or Ctrl-C) is a warm shutdown: RQ lets the running job finish (a job walking every tenant
stops after the current tenant: `worker.context.until_shutdown`), `work()` returns, and the children
are stopped and reaped. A second SIGTERM stops at once; whatever a killed job left half done is still
pending in PostgreSQL and the next sweep finishes it.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys

from worker.context import get_app
from worker.cron import run_cron
from worker.queues import DELIVERY_FIRST, QUEUES
from worker.runner import on_startup, run_worker

log = logging.getLogger("liandong.worker")


def main() -> int:
    on_startup()
    settings = get_app().extensions["liandong_settings"]
    spawn = multiprocessing.get_context("spawn")  # children build their own app and connections
    children = [spawn.Process(target=run_cron, daemon=True, name="cron",
                              args=(settings.redis_url, settings.sweep_seconds, settings.reminder_sweep_seconds))]
    # Not daemonic: an RQ worker forks its scheduler, which a daemonic process may not do.
    children += [spawn.Process(target=run_worker, args=(DELIVERY_FIRST,), daemon=False, name=f"delivery-{n}")
                 for n in range(max(0, settings.delivery_workers))]
    for child in children:
        child.start()
    try:
        run_worker(QUEUES)
    finally:
        for child in children:
            child.terminate()  # SIGTERM: a worker child finishes its job first
        for child in children:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
                child.join(timeout=5)
        log.info("worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
