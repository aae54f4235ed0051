"""The sweep finds past-due timers and hands them to `fire_overdue` jobs, which any worker process takes
(their claims are SKIP LOCKED, so two workers share the backlog and never fire a timer twice). With
Redis unreachable it fires them itself: a lost Redis never leaves a due timer unfired."""
from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker

from app.blueprints.reminders.jobs import sweep_tenant
from tests.reminders_support import (District, district, inbox_of, issue_one, make_due, make_incident,  # noqa: F401
                                     timers)


def test_the_sweep_hands_overdue_timers_to_jobs_that_fire_them_once(app, client, district: District, sql,
                                                                   redis_client):
    d = district
    instruction_ids = [issue_one(client, d, make_incident(app, d.tenant))["id"] for _ in range(3)]
    due = [make_due(sql, i, "acknowledge", "yellow") for i in instruction_ids]

    with app.app_context():
        counts = sweep_tenant(d.tenant.id)
    assert counts["handed_over"] == 3 and counts["fired"] == 0
    assert all(t.state == "pending" for i in instruction_ids for t in timers(sql, i) if t.id in due)
    queue = Queue("critical", connection=redis_client)
    with app.app_context():
        sweep_tenant(d.tenant.id)  # the next sweep, before a worker got to them: a second hand-over
    assert queue.count == 2

    SimpleWorker([queue], connection=redis_client).work(burst=True)  # both jobs run; one finds nothing left
    fired = [t for i in instruction_ids for t in timers(sql, i) if t.id in due]
    assert [(t.state, t.fired_by) for t in fired] == [("fired", "sweep")] * 3
    assert len(inbox_of(sql, d.liaison.id)) == 3  # once each
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'reminder.yellow'")[0][0] == 3


def test_with_redis_unreachable_the_sweep_fires_them_itself(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    timer_id = make_due(sql, instruction_id, "acknowledge", "yellow")
    original = app.extensions["liandong_redis"]
    app.extensions["liandong_redis"] = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    try:
        with app.app_context():
            counts = sweep_tenant(d.tenant.id)
    finally:
        app.extensions["liandong_redis"] = original
    assert counts["handed_over"] == 0 and counts["fired"] == 1
    assert {t.id: (t.state, t.fired_by) for t in timers(sql, instruction_id)}[timer_id] == ("fired", "sweep")
