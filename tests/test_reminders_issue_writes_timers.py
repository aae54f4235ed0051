"""Issuing an instruction writes one timer per enabled escalation step, in the issuing transaction,
and schedules one RQ job per timer after commit."""
from __future__ import annotations

import math
from datetime import timedelta

from rq import Queue
from rq.registry import ScheduledJobRegistry

from tests.factories import assert_error
from tests.reminders_support import District, district, issue_one, make_incident, timers  # noqa: F401


def test_one_timer_per_enabled_step_at_deadline_plus_offset(app, client, district: District, sql, redis_client):
    incident_id = make_incident(app, district.tenant)
    instruction = issue_one(client, district, incident_id)
    rows = timers(sql, instruction["id"])
    # 建设 is an emergency unit; a general incident: acknowledge, arrive, resolve × warning, yellow, red.
    assert sorted((r.clock, r.step) for r in rows) == sorted(
        (clock, step) for clock in ("acknowledge", "arrive", "resolve") for step in ("warning", "yellow", "red"))
    deadlines = dict(sql("SELECT 'acknowledge', acknowledge_by FROM instructions WHERE id = :i UNION ALL "
                         "SELECT 'arrive', arrive_by FROM instructions WHERE id = :i UNION ALL "
                         "SELECT 'resolve', resolve_by FROM instructions WHERE id = :i", i=instruction["id"]))
    offsets = {(c, s): timedelta(minutes=m) for c, s, m in sql("SELECT clock, step, offset_minutes FROM escalation_steps")}
    for row in rows:
        assert row.state == "pending" and row.token == 1
        assert row.due_at == deadlines[row.clock] + offsets[(row.clock, row.step)]
    assert instruction["supervision_level"] == "none"

    # After commit: a scheduled trigger for each timer's due second, its id derived from tenant and second.
    registry = ScheduledJobRegistry(queue=Queue("critical", connection=redis_client))
    job_ids = set(registry.get_job_ids())
    tenant_id = district.tenant.id
    assert {f"timer-{tenant_id}-{math.floor(r.due_at.timestamp())}" for r in rows} == job_ids
    first = min(rows, key=lambda r: r.due_at)
    scheduled = registry.get_scheduled_time(f"timer-{tenant_id}-{math.floor(first.due_at.timestamp())}")
    assert 0 <= (first.due_at - scheduled).total_seconds() < 1  # RQ keeps whole seconds: the start of it


def test_a_disabled_step_writes_no_timer_and_major_adds_leadership(app, client, district: District, sql):
    sql("UPDATE escalation_steps SET is_enabled = false WHERE clock = 'arrive' AND step = 'warning'")
    incident_id = make_incident(app, district.tenant, severity="major")
    instruction = issue_one(client, district, incident_id)
    steps = {(r.clock, r.step) for r in timers(sql, instruction["id"])}
    assert ("arrive", "warning") not in steps
    assert {("acknowledge", "leadership"), ("arrive", "leadership"), ("resolve", "leadership")} <= steps


def test_a_refused_issue_writes_no_timer(app, client, district: District, sql, same_database):
    incident_id = make_incident(app, district.tenant)
    issue_one(client, district, incident_id)
    unchanged = same_database()
    response = client.post(district.issue_url(incident_id), headers=district.h(district.desk),
                           json={"instructions": [{"unit_id": district.unit_id}]})
    assert_error(response, 409, "unit_already_instructed")
    unchanged()
