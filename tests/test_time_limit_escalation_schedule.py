"""Which escalation steps would fire for an instruction, and when.

Default steps per clock: a warning before the deadline, yellow (催办) at it, red (督办) after a
further delay, leadership later still for major incidents only.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from app.blueprints.timelimits.deadlines import deadlines_for, escalation_schedule
from app.blueprints.timelimits.defaults import default_policy
from app.blueprints.timelimits.policy import Clock, Recipient, Step

POLICY = default_policy()
ISSUED = datetime.fromisoformat("2025-03-04T10:00:00+08:00")  # a Tuesday


def schedule(*, duty_class="standard", severity="general", needs_site_visit=True, steps=POLICY.steps):
    deadlines = deadlines_for(issued_at=ISSUED, duty_class=duty_class, severity=severity, area="urban",
                              needs_site_visit=needs_site_visit, policy=POLICY, time_zone="Asia/Shanghai")
    return deadlines, escalation_schedule(deadlines=deadlines, steps=steps, severity=severity, issued_at=ISSUED)


def test_steps_fire_relative_to_their_clock_in_time_order():
    deadlines, steps = schedule()
    fired = {(item.clock, item.step): item for item in steps}
    assert fired[(Clock.ACKNOWLEDGE, Step.WARNING)].due_at == deadlines.acknowledge_by - timedelta(minutes=5)
    assert fired[(Clock.ACKNOWLEDGE, Step.YELLOW)].due_at == deadlines.acknowledge_by
    assert fired[(Clock.ACKNOWLEDGE, Step.RED)].due_at == deadlines.acknowledge_by + timedelta(minutes=15)
    assert fired[(Clock.ARRIVE, Step.YELLOW)].due_at == deadlines.arrive_by
    # 5 working days from Tuesday 4 March: 24:00 on Tuesday 11 March; warned at 16:00 that day,
    # red at 08:00 the next morning.
    assert fired[(Clock.RESOLVE, Step.WARNING)].due_at == datetime.fromisoformat("2025-03-11T16:00:00+08:00")
    assert fired[(Clock.RESOLVE, Step.RED)].due_at == datetime.fromisoformat("2025-03-12T08:00:00+08:00")
    assert [item.due_at for item in steps] == sorted(item.due_at for item in steps)


def test_yellow_reaches_the_unit_and_red_its_leader_and_the_office():
    _, steps = schedule()
    recipients = {(item.clock, item.step): item.recipients for item in steps}
    assert recipients[(Clock.ACKNOWLEDGE, Step.YELLOW)] == (Recipient.LIAISON, Recipient.ON_DUTY)
    assert recipients[(Clock.ACKNOWLEDGE, Step.RED)] == (Recipient.UNIT_LEADER, Recipient.OFFICE)


def test_leadership_hears_of_major_incidents_only():
    _, general = schedule(severity="general")
    _, major = schedule(severity="major")
    assert Step.LEADERSHIP not in {item.step for item in general}
    leadership = [item for item in major if item.step == Step.LEADERSHIP]
    assert {item.clock for item in leadership} == set(Clock)
    assert all(item.recipients == (Recipient.LEADERSHIP,) for item in leadership)


def test_no_site_visit_means_no_arrive_steps():
    _, steps = schedule(needs_site_visit=False)
    assert Clock.ARRIVE not in {item.clock for item in steps}


def test_a_warning_that_would_come_before_the_issue_is_left_out():
    # Emergency urgent: acknowledge within 5 minutes; the warning 5 minutes before is the moment of issue.
    _, steps = schedule(duty_class="emergency", severity="urgent")
    assert (Clock.ACKNOWLEDGE, Step.WARNING) not in {(item.clock, item.step) for item in steps}
    assert (Clock.ACKNOWLEDGE, Step.YELLOW) in {(item.clock, item.step) for item in steps}
    assert all(item.due_at > ISSUED for item in steps)


def test_disabled_steps_do_not_fire():
    steps = tuple(replace(rule, is_enabled=False) if rule.step == Step.WARNING else rule for rule in POLICY.steps)
    _, fired = schedule(steps=steps)
    assert Step.WARNING not in {item.step for item in fired}
