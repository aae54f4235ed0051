"""Redis loses everything (FLUSHALL) after 1,000 timers were scheduled: every timer still fires, exactly
once, within one sweep interval of its due time (plus the time to fire the batch). Run against a Redis
server of the test's own, so FLUSHALL touches no one else."""
from __future__ import annotations

from rq import Queue
from rq.registry import ScheduledJobRegistry

from tests.reminders_support import (District, district, make_timers, private_redis, using_redis,  # noqa: F401
                                     wait_for, wait_for_worker, worker_process)

SWEEP_SECONDS = 2
# Firing takes time too: the sweep that finds a timer due must also fire the ones ahead of it.
FIRING_ALLOWANCE_SECONDS = 1.5


def test_every_timer_fires_once_after_a_flush(app, client, district: District, sql, test_env):
    d = district
    with private_redis() as (url, redis):
        with worker_process(test_env, REDIS_URL=url, REMINDER_SWEEP_SECONDS=SWEEP_SECONDS) as process:
            wait_for_worker(redis, process)
            with using_redis(app, redis):
                ids = make_timers(app, sql, client, d, count=1000, first_in=4, spread=30)
            # Scheduled: the trigger of every second in which one of the 1,000 timers falls due.
            seconds = {f"timer-{d.tenant.id}-{second}" for (second,) in sql(
                "SELECT DISTINCT floor(extract(epoch FROM due_at))::bigint FROM timers WHERE id = ANY(:ids)", ids=ids)}
            assert seconds <= set(ScheduledJobRegistry(queue=Queue("critical", connection=redis)).get_job_ids())
            redis.flushall()
            assert redis.dbsize() == 0
            wait_for(lambda: sql("SELECT count(*) FROM timers WHERE id = ANY(:ids) AND state = 'pending'",
                                 ids=ids)[0][0] == 0, timeout=90, interval=0.5, message="all timers to fire")

    rows = sql("SELECT state, fired_by, attempts, extract(epoch FROM fired_at - due_at) AS late "
               "FROM timers WHERE id = ANY(:ids)", ids=ids)
    assert {r.state for r in rows} == {"fired"} and {r.attempts for r in rows} == {1}
    # The jobs were lost with Redis: the sweep fired what fell due, and re-armed the jobs of what was to come.
    assert "sweep" in {r.fired_by for r in rows}
    late = sorted(float(r.late) for r in rows)
    assert late[0] >= 0, "fired early"
    assert late[-1] <= SWEEP_SECONDS + FIRING_ALLOWANCE_SECONDS, (late[len(late) // 2], late[-1])
    # Exactly once: one audit event, one timeline step and one message per timer.
    assert sql("SELECT count(DISTINCT after->>'timer_id'), count(*) FROM audit_events "
               "WHERE action = 'reminder.yellow'")[0] == (1000, 1000)
    assert sql("SELECT count(*) FROM timeline_events WHERE kind = 'instruction.reminder_yellow'")[0][0] == 1000
    assert sql("SELECT count(*) FROM notifications WHERE recipient_user_id = :u AND kind = 'reminder.yellow'",
               u=d.liaison.id)[0][0] == 1000
