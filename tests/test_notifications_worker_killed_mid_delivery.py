"""The worker is SIGKILLed while a webhook delivery is in flight. After a restart the delivery is made
again under the same idempotency key once its lease runs out, so the unit's system, which keeps one
message per key, sees it once; the in-app message exists once."""
from __future__ import annotations

import os
import signal
import threading

from tests.reminders_support import (District, Receiver, district, inbox_of, issue_one, make_due,  # noqa: F401
                                     make_incident, put_endpoint, wait_for, wait_for_worker, worker_process)

SECRET = "unit-webhook-secret-2026"


def _row(sql):
    return sql("SELECT state, attempts, next_attempt_at, sent_at FROM notifications WHERE channel = 'webhook'")


def test_delivered_once_after_restart(app, client, district: District, sql, redis_client, test_env):
    d = district
    fast = {"REMINDER_SWEEP_SECONDS": 1, "NOTIFY_LEASE_SECONDS": 3}
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]  # its notice: not to this hook
    with Receiver(secret=SECRET) as hook:
        hook.hold = threading.Event()  # the first request hangs: the worker is mid-delivery
        put_endpoint(client, d, channel="webhook", unit_id=d.unit_id, target=hook.url, secret=SECRET)
        with worker_process(test_env, **fast) as first:
            wait_for_worker(redis_client, first)
            make_due(sql, instruction_id, "acknowledge", "yellow")
            wait_for(lambda: len(hook.requests) == 1, timeout=30, message="the delivery to start")
            os.killpg(first.pid, signal.SIGKILL)  # the worker and its cron child, mid-request
            first.wait(timeout=10)
        hook.hold.set()  # the receiver answers a worker that is gone (it did take the message)
        hook.hold = None
        assert [tuple(r)[:2] for r in _row(sql)] == [("pending", 1)]  # claimed, leased, not recorded

        with worker_process(test_env, **fast) as second:
            wait_for_worker(redis_client, second)
            wait_for(lambda: _row(sql)[0].state == "sent", timeout=30, message="the delivery after restart")

    (row,) = _row(sql)
    assert row.attempts == 2 and row.sent_at is not None
    assert len(hook.requests) == 2  # at least once: the repeat after the crash ...
    assert len({r["headers"]["Idempotency-Key"] for r in hook.requests}) == 1  # ... under the same key
    assert len(hook.delivered) == 1  # so the unit's system keeps it once
    assert all(r["verified"] for r in hook.requests)
    assert [n.kind for n in inbox_of(sql, d.liaison.id)] == ["reminder.yellow"]
    assert sql("SELECT count(*) FROM timers WHERE state = 'fired'")[0][0] == 1
