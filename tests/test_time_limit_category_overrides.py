"""A category's `time_limits` overrides lie over the tenant's defaults, key by key; bad ones are refused."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.blueprints.timelimits.deadlines import InvalidTimeLimits, apply_overrides, deadlines_for
from app.blueprints.timelimits.defaults import default_policy
from app.blueprints.timelimits.policy import AreaType

POLICY = default_policy()
STANDARD_GENERAL = POLICY.limits_for("standard", "general")  # 20 min; 60/90/120 min; 5 working days
EMERGENCY_GENERAL = POLICY.limits_for("emergency", "general")  # 10 min; 45/60/90 min; 24 hours


def test_no_overrides_leave_the_defaults():
    assert apply_overrides(STANDARD_GENERAL, None) == STANDARD_GENERAL
    assert apply_overrides(STANDARD_GENERAL, {}) == STANDARD_GENERAL


def test_given_keys_replace_the_defaults_and_arrival_may_name_some_areas():
    limits = apply_overrides(STANDARD_GENERAL, {"ack_minutes": 5, "arrive_minutes": {"rural": 240}})
    assert limits.ack_minutes == 5
    assert limits.arrive_minutes == {AreaType.URBAN: 60, AreaType.SUBURBAN: 90, AreaType.RURAL: 240}
    assert limits.resolve_working_days == 5


def test_either_resolve_unit_replaces_the_default_whatever_its_unit():
    in_hours = apply_overrides(STANDARD_GENERAL, {"resolve_hours": 48})
    assert (in_hours.resolve_hours, in_hours.resolve_working_days) == (48, None)
    in_days = apply_overrides(EMERGENCY_GENERAL, {"resolve_working_days": 2})
    assert (in_days.resolve_hours, in_days.resolve_working_days) == (None, 2)


def test_null_values_count_as_not_given():
    assert apply_overrides(STANDARD_GENERAL, {"ack_minutes": None, "resolve_hours": None}) == STANDARD_GENERAL


@pytest.mark.parametrize("overrides, key", [
    ({"resolve_hours": 4, "resolve_working_days": 1}, "resolve_hours"),
    ({"ack_minute": 5}, "ack_minute"),
    ({"ack_minutes": 0}, "ack_minutes"),
    ({"ack_minutes": True}, "ack_minutes"),
    ({"ack_minutes": 1.5}, "ack_minutes"),
    ({"resolve_working_days": 91}, "resolve_working_days"),
    ({"arrive_minutes": {"downtown": 5}}, "arrive_minutes"),
    ({"arrive_minutes": {"urban": -1}}, "arrive_minutes"),
    ({"arrive_minutes": 30}, "arrive_minutes"),
])
def test_overrides_that_cannot_apply_are_refused_naming_the_key(overrides, key):
    with pytest.raises(InvalidTimeLimits) as caught:
        apply_overrides(STANDARD_GENERAL, overrides)
    assert key in caught.value.errors


def test_the_deadlines_use_the_overridden_limits():
    issued = datetime.fromisoformat("2025-03-04T10:00:00+08:00")
    result = deadlines_for(issued_at=issued, duty_class="standard", severity="general", area="suburban",
                           needs_site_visit=True, policy=POLICY, time_zone="Asia/Shanghai",
                           category_limits={"arrive_minutes": {"suburban": 30}, "resolve_hours": 12})
    assert result.arrive_by == issued + timedelta(minutes=30)
    assert result.resolve_by == issued + timedelta(hours=12)
    assert result.limits.resolve_working_days is None
