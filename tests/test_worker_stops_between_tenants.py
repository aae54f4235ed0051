"""A SIGTERM lets the running job finish, so a job that walks every tenant (the reminder sweep, the
maintenance sweep, model training) stops before its next tenant once the worker is asked to stop;
what it skipped is still due in PostgreSQL and the next sweep takes it."""
from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker

from app.blueprints.reminders.jobs import sweep
from tests.reminders_support import (District, district, issue_one, make_due, make_incident,  # noqa: F401
                                     timers)
from worker import context


@pytest.fixture
def shutdown_flag():
    yield context.request_shutdown
    context._shutdown.clear()


def test_until_shutdown_stops_before_the_next_item(shutdown_flag):
    seen = []
    for item in context.until_shutdown([1, 2, 3]):
        seen.append(item)
        if item == 2:
            shutdown_flag()
    assert seen == [1, 2]


def test_a_sweep_asked_to_stop_leaves_due_timers_for_the_next(app, client, district: District, sql,
                                                              shutdown_flag, redis_client):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    timer_id = make_due(sql, instruction_id, "acknowledge", "yellow")

    shutdown_flag()
    with app.app_context():
        stopped = sweep()
    assert stopped["fired"] == 0
    assert {t.id: t.state for t in timers(sql, instruction_id)}[timer_id] == "pending"

    context._shutdown.clear()  # the worker restarted: the next sweep catches up
    with app.app_context():
        assert sweep()["handed_over"] == 1  # to a fire_overdue job, which a worker runs:
    SimpleWorker([Queue("critical", connection=redis_client)], connection=redis_client).work(burst=True)
    assert {t.id: t.state for t in timers(sql, instruction_id)}[timer_id] == "fired"
