"""`python -m worker` runs a delivery-first worker beside the main one, and shuts down cleanly on SIGTERM:
it exits 0 and leaves no child (the delivery worker, the cron) behind."""
from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.reminders_support import wait_for, wait_for_worker, worker_process


def _delivery_workers(redis_client, process) -> list:
    from rq import Worker

    group = os.getpgid(process.pid)
    return [w for w in Worker.all(connection=redis_client)
            if w.queue_names()[0] == "delivery" and _group_of(w.pid) == group]


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def test_the_worker_runs_a_delivery_first_child(test_env, redis_client):
    with worker_process(test_env) as process:
        wait_for_worker(redis_client, process)
        (child,) = wait_for(lambda: _delivery_workers(redis_client, process), timeout=60,
                            message="the delivery worker to register")
        assert child.pid != process.pid
        assert child.queue_names() == ["delivery", "default", "media"]


def test_sigterm_stops_worker_and_cron(test_env, redis_client):
    with worker_process(test_env) as process:
        wait_for_worker(redis_client, process)
        wait_for(lambda: _delivery_workers(redis_client, process), timeout=60, message="the delivery worker")
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGUSR1)  # every process of the group writes its stacks to stderr
            time.sleep(2)  # let them write before the fixture kills the group; this is a failure path only
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError("the worker did not stop within 30 s; stacks:\n"
                                 + process.stderr.read().decode(errors="replace")[-20000:]) from None
        # The cron child was stopped and reaped with it: nothing is left in the process group.
        def group_gone():
            try:
                os.killpg(process.pid, 0)
                return False
            except ProcessLookupError:
                return True
        wait_for(group_gone, timeout=15, message="the cron child to exit")
