"""A night shift across midnight is shown in the tenant's time zone, with its offset, on the right dates."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.test_roster_support import create_pattern, district, local, on_duty, rotation, shifts  # noqa: F401


def test_a_night_shift_across_midnight_is_shown_in_shanghai_time(client, district):
    day, night = district.crew[:2]
    create_pattern(client, district, rotation(district, [day, night], name="白班夜班", starts_on="2026-03-01",
                                              start_time="08:00", shift_hours=12))

    # Asked in UTC; answered in Asia/Shanghai.
    response = client.get(district.roster("shifts"), headers=district.headers["admin"],
                          query_string={"from": "2026-03-01T12:00:00Z", "to": "2026-03-02T00:00:00Z"})

    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["from"], body["to"]) == ("2026-03-01T20:00:00+08:00", "2026-03-02T08:00:00+08:00")
    assert [(s["user"]["username"], s["starts_at"], s["ends_at"]) for s in body["shifts"]] == [
        ("crew2", "2026-03-01T20:00:00+08:00", "2026-03-02T08:00:00+08:00"),
    ]
    # Just after midnight the night shift of the day before is still on.
    assert on_duty(client, district, local("2026-03-02 00:30")) == ["crew2"]
    assert on_duty(client, district, local("2026-03-02 08:00")) == ["crew1"]


def test_patterns_follow_the_tenants_own_wall_clock(client, district):
    """A district in Xinjiang time (Asia/Urumqi, UTC+6) hands over at 08:00 of its own clock."""
    response = client.patch(f"/api/v1/t/{district.tenant.code}", json={"time_zone": "Asia/Urumqi"},
                            headers=district.headers["admin"])
    assert response.status_code == 200, response.get_json()
    urumqi = ZoneInfo("Asia/Urumqi")
    day, night = district.crew[:2]
    create_pattern(client, district, rotation(district, [day, night], name="白班夜班", shift_hours=12))

    found = shifts(client, district, local("2026-03-01 19:00", urumqi), local("2026-03-01 21:00", urumqi))

    assert [(s["user"]["username"], s["starts_at"], s["ends_at"]) for s in found] == [
        ("crew1", "2026-03-01T08:00:00+06:00", "2026-03-01T20:00:00+06:00"),
        ("crew2", "2026-03-01T20:00:00+06:00", "2026-03-02T08:00:00+06:00"),
    ]
    # 20:00 in Urumqi is 22:00 in Beijing: the night shift has begun.
    assert on_duty(client, district, local("2026-03-01 22:30")) == ["crew2"]


def test_a_handover_at_the_same_wall_clock_time_across_a_daylight_saving_change(client, district):
    """Where the zone has daylight saving, 08:00 stays 08:00; the shift spanning the change is 23 h."""
    client.patch(f"/api/v1/t/{district.tenant.code}", json={"time_zone": "Europe/Berlin"},
                 headers=district.headers["admin"])
    berlin = ZoneInfo("Europe/Berlin")
    create_pattern(client, district, rotation(district, district.crew[:2], starts_on="2026-03-27"))

    found = shifts(client, district, local("2026-03-28 12:00", berlin), local("2026-03-30 12:00", berlin))

    # Clocks go forward at 02:00 on 2026-03-29.
    assert [(s["starts_at"], s["ends_at"]) for s in found] == [
        ("2026-03-28T08:00:00+01:00", "2026-03-29T08:00:00+02:00"),
        ("2026-03-29T08:00:00+02:00", "2026-03-30T08:00:00+02:00"),
        ("2026-03-30T08:00:00+02:00", "2026-03-31T08:00:00+02:00"),
    ]
