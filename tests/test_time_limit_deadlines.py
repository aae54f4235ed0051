"""One function gives an instruction's deadlines; these are its edges.

The rule for working days: the deadline is 24:00 local time (tenant time zone) of the N-th
working day after the local day of issue; the day of issue never counts. Minutes and hours
are plain elapsed time. Default policy: standard units resolve general matters in 5 working
days and urgent ones in 3; emergency units resolve major ones in 4 hours.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.blueprints.timelimits.deadlines import deadlines_for
from app.blueprints.timelimits.defaults import default_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")
POLICY = default_policy()


def at(text: str) -> datetime:
    """An aware datetime from ISO text with its offset."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment


def deadlines(issued_at: str | datetime, *, duty_class="standard", severity="general", area="urban",
              needs_site_visit=True, time_zone=SHANGHAI, category_limits=None):
    issued = at(issued_at) if isinstance(issued_at, str) else issued_at
    return deadlines_for(issued_at=issued, duty_class=duty_class, severity=severity, area=area,
                         needs_site_visit=needs_site_visit, policy=POLICY, time_zone=time_zone,
                         category_limits=category_limits)


def test_every_deadline_is_aware_utc():
    result = deadlines("2025-03-04T10:00:00+08:00")
    for moment in (result.acknowledge_by, result.arrive_by, result.resolve_by):
        assert moment.utcoffset() == timedelta(0) and moment.tzinfo == UTC


def test_minute_limits_count_from_issue_and_pick_the_area():
    issued = at("2025-03-04T10:00:00+08:00")
    for area, minutes in (("urban", 60), ("suburban", 90), ("rural", 120)):
        result = deadlines(issued, area=area)
        assert result.acknowledge_by == issued + timedelta(minutes=20)
        assert result.arrive_by == issued + timedelta(minutes=minutes)


def test_no_site_visit_means_no_arrive_deadline():
    assert deadlines("2025-03-04T10:00:00+08:00", needs_site_visit=False).arrive_by is None


def test_resolve_in_working_days_across_the_2026_spring_festival():
    # Friday 13 Feb; 14 Feb is a make-up Saturday, 15–23 Feb off.
    urgent = deadlines("2026-02-13T10:00:00+08:00", severity="urgent")        # 3 working days
    assert urgent.resolve_by == at("2026-02-26T00:00:00+08:00")                # 14, 24, 25 Feb
    general = deadlines("2026-02-13T10:00:00+08:00")                           # 5 working days
    assert general.resolve_by == at("2026-02-28T00:00:00+08:00")               # 14, 24, 25, 26, 27
    assert general.resolve_by == datetime(2026, 2, 27, 16, 0, tzinfo=UTC)
    assert not general.calendar_fallback


def test_a_call_on_a_holiday_counts_from_the_first_working_day_after_it():
    # 2025: 28 Jan – 4 Feb off; 8 Feb a make-up Saturday. 5 working days: 5, 6, 7, 8, 10 Feb.
    expected = at("2025-02-11T00:00:00+08:00")
    for issued in ("2025-01-28T09:00:00+08:00", "2025-01-29T23:00:00+08:00", "2025-02-04T18:00:00+08:00"):
        assert deadlines(issued).resolve_by == expected, issued
    # The working day before the festival gives the same: the day of issue never counts.
    assert deadlines("2025-01-27T08:30:00+08:00").resolve_by == expected


def test_a_make_up_saturday_counts_as_a_working_day():
    one_day = {"resolve_working_days": 1}
    friday = deadlines("2025-02-07T15:00:00+08:00", category_limits=one_day)
    assert friday.resolve_by == at("2025-02-09T00:00:00+08:00")   # end of Saturday 8 Feb
    on_the_saturday = deadlines("2025-02-08T10:00:00+08:00", category_limits=one_day)
    assert on_the_saturday.resolve_by == at("2025-02-11T00:00:00+08:00")  # end of Monday 10 Feb
    # And a make-up Sunday: Friday 24 Jan + 2 working days = Sunday 26 and Monday 27 Jan;
    # the deadline, 24:00 on the 27th, is the first moment of the festival.
    assert deadlines("2025-01-24T16:00:00+08:00", category_limits={"resolve_working_days": 2}
                     ).resolve_by == at("2025-01-28T00:00:00+08:00")


def test_midnight_belongs_to_the_day_it_starts():
    one_day = {"resolve_working_days": 1}
    at_midnight = deadlines("2025-03-03T00:00:00+08:00", category_limits=one_day)     # Monday 00:00
    a_second_before = deadlines("2025-03-02T23:59:59+08:00", category_limits=one_day)  # still Sunday
    assert at_midnight.resolve_by == at("2025-03-05T00:00:00+08:00")      # end of Tuesday
    assert a_second_before.resolve_by == at("2025-03-04T00:00:00+08:00")  # end of Monday
    # The same instant written in UTC is the same Monday midnight in Shanghai.
    assert deadlines("2025-03-02T16:00:00+00:00", category_limits=one_day).resolve_by == at_midnight.resolve_by
    # Minute limits simply run past midnight.
    late = deadlines("2025-03-03T23:55:00+08:00")
    assert late.acknowledge_by == at("2025-03-04T00:15:00+08:00")


def test_the_tenant_time_zone_decides_the_local_day():
    # 17:00 UTC on Saturday 25 Jan 2025 is 01:00 on Sunday 26 Jan (a make-up workday) in Shanghai,
    # and still 23:00 on Saturday in Urumqi (UTC+6).
    issued = at("2025-01-25T17:00:00+00:00")
    shanghai = deadlines(issued, severity="urgent", time_zone=SHANGHAI)
    urumqi = deadlines(issued, severity="urgent", time_zone=URUMQI)
    assert shanghai.resolve_by == at("2025-02-07T00:00:00+08:00")  # 27 Jan, 5 Feb, 6 Feb
    assert urumqi.resolve_by == at("2025-02-06T00:00:00+06:00")    # 26 Jan, 27 Jan, 5 Feb
    # Minute limits are elapsed time: the zone changes nothing there.
    assert shanghai.acknowledge_by == urumqi.acknowledge_by == issued + timedelta(minutes=15)
    assert deadlines(issued, severity="urgent", time_zone="Asia/Urumqi").resolve_by == urumqi.resolve_by


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday_and_says_so():
    # Thursday 31 Dec 2099 + 3 working days: Fri 1 Jan 2100 (a real holiday, unknown yet), Mon 4, Tue 5.
    result = deadlines("2099-12-31T10:00:00+08:00", severity="urgent")
    assert result.resolve_by == at("2100-01-06T00:00:00+08:00")
    assert result.calendar_fallback


def test_resolve_in_hours_ignores_holidays_and_the_time_zone():
    issued = at("2025-01-28T23:30:00+08:00")  # the festival's first night
    result = deadlines(issued, duty_class="emergency", severity="major", time_zone=URUMQI)
    assert result.acknowledge_by == issued + timedelta(minutes=5)
    assert result.arrive_by == issued + timedelta(minutes=20)
    assert result.resolve_by == issued + timedelta(hours=4)
    assert not result.calendar_fallback


def test_any_offset_in_the_input_gives_the_same_deadlines():
    in_utc = deadlines("2026-02-13T02:00:00+00:00")
    in_beijing = deadlines("2026-02-13T10:00:00+08:00")
    elsewhere = deadlines(datetime(2026, 2, 12, 21, 0, tzinfo=timezone(timedelta(hours=-5))))
    assert in_utc == in_beijing == elsewhere


def test_a_naive_issue_time_is_refused():
    with pytest.raises(ValueError):
        deadlines(datetime(2025, 3, 4, 10, 0))
