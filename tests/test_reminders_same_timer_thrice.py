"""The same timer enqueued three times, run by a real worker process: it fires once. The job RQ's
scheduler starts (possibly up to a second early) never fires before the due time."""
from __future__ import annotations

from rq import Queue

from app.blueprints.reminders.jobs import enqueue_timers, fire_timer
from tests.reminders_support import (District, district, inbox_of, issue_one, make_due, make_incident,  # noqa: F401
                                     timers, wait_for, wait_for_worker, worker_process)


def test_three_jobs_one_firing(app, client, district: District, sql, redis_client, test_env):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    with worker_process(test_env, REMINDER_SWEEP_SECONDS=15) as process:
        wait_for_worker(redis_client, process)
        timer_id = make_due(sql, instruction_id, "acknowledge", "yellow", in_seconds=2.5)
        due_at = sql("SELECT due_at FROM timers WHERE id = :t", t=timer_id)[0][0]
        queue = Queue("critical", connection=redis_client)
        with app.app_context():
            enqueue_timers([(d.tenant.id, timer_id, 1, due_at)])           # the scheduled trigger (re-timed)
        jobs = [queue.enqueue_at(due_at, fire_timer, d.tenant.id, timer_id, 1),  # a duplicate, scheduled
                queue.enqueue(fire_timer, d.tenant.id, timer_id, 1)]            # and one run at once
        results = [job.latest_result(timeout=30) for job in jobs]
        wait_for(lambda: sql("SELECT state FROM timers WHERE id = :t", t=timer_id)[0][0] == "fired", timeout=30)

    assert all(r is not None and r.type == r.Type.SUCCESSFUL for r in results), results
    (row,) = sql("SELECT fired_at, due_at, fired_by, attempts FROM timers WHERE id = :t", t=timer_id)
    assert row.fired_at >= row.due_at and row.fired_by == "job" and row.attempts == 1
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'reminder.yellow'")[0][0] == 1
    assert [n.kind for n in inbox_of(sql, d.liaison.id)] == ["reminder.yellow"]
    # The one run at once found the timer 2.5 s from due: it refused ("early") rather than fire early.
    assert results[1].return_value == "early"
    assert results[0].return_value in {"fired", "duplicate"}
