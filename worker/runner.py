"""One RQ worker process of `python -m worker` (a module of its own: `spawn` children must import it)."""
from __future__ import annotations

import faulthandler
import signal

from rq import SimpleWorker

from worker.context import get_app, request_shutdown


def _stop_during_startup(signum, _frame) -> None:
    # RQ registers the worker before it installs its own SIGTERM handler; a SIGTERM in between would
    # kill the process outright. Until RQ's handler replaces this one, a stop request exits cleanly.
    raise SystemExit(0)


class Worker(SimpleWorker):
    """RQ's SimpleWorker that also tells long multi-tenant jobs to stop between tenants."""

    def request_stop(self, signum, frame):
        request_shutdown()
        super().request_stop(signum, frame)


def on_startup() -> None:
    signal.signal(signal.SIGTERM, _stop_during_startup)
    signal.signal(signal.SIGINT, _stop_during_startup)
    # `kill -USR1 <pid>` writes every thread's stack to stderr: what a stuck worker is doing.
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def run_worker(queues: tuple[str, ...]) -> None:
    """One worker process: jobs run in this process (SimpleWorker), inside the app context; a job that
    dies loses nothing: its truth is in PostgreSQL and the sweeps pick it up again."""
    on_startup()
    app = get_app()
    settings = app.extensions["liandong_settings"]
    with app.app_context():
        worker = Worker(list(queues), connection=app.extensions["liandong_redis"])
        worker.work(with_scheduler=True, logging_level=settings.log_level)
