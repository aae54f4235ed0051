"""Policy → timers → firing → notifications, step by step: who hears each step, what the message says,
the supervision level every view shows, the audit event and the incident timeline step."""
from __future__ import annotations

from app.blueprints.reminders.jobs import fire_timer
from tests.reminders_support import (District, district, inbox_of, issue_one, make_due, make_incident,  # noqa: F401
                                     put_on_duty, sweep, timers)


def _level(client, d: District, instruction_id: int) -> str:
    response = client.get(d.url("instructions", instruction_id), headers=d.h(d.desk))
    return response.get_json()["supervision_level"]


def test_warning_yellow_red_reach_their_people_and_raise_the_level(app, client, district: District, sql):
    d = district
    put_on_duty(app, d.tenant, d.responder)
    incident_id = make_incident(app, d.tenant)
    number = sql("SELECT number FROM incidents WHERE id = :i", i=incident_id)[0][0]
    instruction_id = issue_one(client, d, incident_id)["id"]

    make_due(sql, instruction_id, "acknowledge", "warning")
    assert sweep(app, d.tenant.id)["fired"] == 1
    for user in (d.liaison, d.responder):  # the liaison and whoever is on duty now
        (warning,) = inbox_of(sql, user.id)
        assert warning.kind == "reminder.warning" and "签收将于" in warning.title and number in warning.title
    assert inbox_of(sql, d.unit_leader.id) == [] and inbox_of(sql, d.office.id) == []
    assert _level(client, d, instruction_id) == "none"  # a warning is not yet a 催办

    make_due(sql, instruction_id, "acknowledge", "yellow")
    sweep(app, d.tenant.id)
    assert [n.kind for n in inbox_of(sql, d.liaison.id)] == ["reminder.warning", "reminder.yellow"]
    assert _level(client, d, instruction_id) == "yellow"

    make_due(sql, instruction_id, "acknowledge", "red")  # 15 minutes after the deadline
    sweep(app, d.tenant.id)
    for user in (d.unit_leader, d.office):
        (red,) = inbox_of(sql, user.id)
        assert red.title.startswith(f"【督办】{number} 签收已超时15分钟")
        assert "acknowledgement overdue by 15 min" in red.title
        assert "凉州区东大街1号" in red.body and "未分类" in red.body
        assert f"/t/{d.tenant.code}/instructions/{instruction_id}" in red.body
        assert red.data["instruction_id"] == instruction_id and red.data["supervision_level"] == "red"
    assert _level(client, d, instruction_id) == "red"
    # Every view shows it: the unit's inbox of instructions and the desk board too.
    listed = client.get(d.url("units", d.unit_id, "instructions"), headers=d.h(d.liaison)).get_json()
    assert [i["supervision_level"] for i in listed if i["id"] == instruction_id] == ["red"]
    board = client.get(d.url("board"), headers=d.h(d.desk)).get_json()
    on_board = [row["instruction"] for item in board for row in item["instructions"]
                if row["instruction"]["id"] == instruction_id]
    assert [i["supervision_level"] for i in on_board] == ["red"]

    fired = {(r.clock, r.step): r for r in timers(sql, instruction_id) if r.state == "fired"}
    assert set(fired) == {("acknowledge", "warning"), ("acknowledge", "yellow"), ("acknowledge", "red")}
    assert all(r.fired_by == "sweep" for r in fired.values())
    timeline = client.get(d.url("incidents", incident_id, "timeline"), headers=d.h(d.desk)).get_json()
    kinds = [step["kind"] for step in timeline["events"]]
    assert kinds.count("instruction.reminder_red") == 1 and kinds.count("instruction.reminder_yellow") == 1
    audited = sql("SELECT action, after->>'supervision_level' FROM audit_events WHERE action LIKE 'reminder.%' "
                  "ORDER BY seq")
    assert [tuple(row) for row in audited] == [("reminder.warning", "none"), ("reminder.yellow", "yellow"),
                                               ("reminder.red", "red")]


def test_a_major_incident_reaches_the_leadership_group(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant, severity="major"))["id"]
    before = len(inbox_of(sql, d.city_leader.id, ""))  # told once at issue (incident.major)
    make_due(sql, instruction_id, "acknowledge", "leadership")
    sweep(app, d.tenant.id)
    (notice,) = inbox_of(sql, d.city_leader.id)
    assert notice.kind == "reminder.leadership" and notice.title.startswith("【领导督办】")
    assert len(inbox_of(sql, d.city_leader.id, "")) == before + 1
    assert _level(client, d, instruction_id) == "red"


def test_the_job_never_fires_early(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    timer_id = make_due(sql, instruction_id, "acknowledge", "yellow", in_seconds=0.7)
    token = timers(sql, instruction_id)[0].token
    with app.app_context():
        assert fire_timer(d.tenant.id, timer_id, token) == "fired"  # RQ started it early: it waited
    (row,) = sql("SELECT fired_at, due_at, fired_by FROM timers WHERE id = :t", t=timer_id)
    assert row.fired_at >= row.due_at and row.fired_by == "job"

    far = make_due(sql, instruction_id, "acknowledge", "red", in_seconds=30)
    with app.app_context():
        assert fire_timer(d.tenant.id, far, 1) == "early"  # too early to wait for: left to the sweep
    assert sql("SELECT state FROM timers WHERE id = :t", t=far)[0][0] == "pending"
