"""A 24-hour rotation among four people from 08:00 local names the right person days and months later."""
from __future__ import annotations

from datetime import timedelta

from tests.test_roster_support import create_pattern, district, local, on_duty, rotation  # noqa: F401


def test_four_person_24h_rotation_resolves_the_right_person_days_later(client, district):
    crew = district.crew
    create_pattern(client, district, rotation(district, crew, starts_on="2026-03-01", start_time="08:00"))

    # Day 0 is crew1, day 1 crew2 ... day 9 is 9 mod 4 = 1: crew2.
    assert on_duty(client, district, local("2026-03-01 08:00")) == ["crew1"]
    assert on_duty(client, district, local("2026-03-02 07:59")) == ["crew1"]   # before the handover
    assert on_duty(client, district, local("2026-03-02 08:00")) == ["crew2"]   # the handover itself
    assert on_duty(client, district, local("2026-03-10 07:59:59")) == ["crew1"]  # day 8: 8 mod 4 = 0
    assert on_duty(client, district, local("2026-03-10 08:00")) == ["crew2"]
    assert on_duty(client, district, local("2026-03-12 23:30")) == ["crew4"]   # day 11
    # Months on, across the month end: 2026-06-15 08:00 is day 106, 106 mod 4 = 2.
    assert on_duty(client, district, local("2026-06-15 12:00")) == ["crew3"]
    # Before the pattern starts nobody is on duty.
    assert on_duty(client, district, local("2026-03-01 07:59")) == []


def test_on_duty_reports_the_whole_shift_in_the_tenant_time_zone(client, district):
    create_pattern(client, district, rotation(district, district.crew))

    response = client.get(district.roster("on-duty"), headers=district.headers["admin"],
                          query_string={"at": "2026-03-05T01:00:00Z"})  # 09:00 in Shanghai: day 4, crew1

    body = response.get_json()
    assert response.status_code == 200, body
    assert body["time_zone"] == "Asia/Shanghai"
    assert body["at"] == "2026-03-05T09:00:00+08:00"
    assert body["unit"]["short_name"] == "建设" and body["unit"]["duty_class"] == "emergency"
    [shift] = body["on_duty"]
    assert shift["user"]["username"] == "crew1"
    assert (shift["starts_at"], shift["ends_at"]) == ("2026-03-05T08:00:00+08:00", "2026-03-06T08:00:00+08:00")
    assert shift["is_eligible"] is True and len(shift["pattern_ids"]) == 1 and shift["override_ids"] == []


def test_the_service_seam_answers_for_a_job_in_a_tenant_scope(app, client, district):
    """`service.on_duty(unit_id=..., at=...)` is what reminders call from a worker job."""
    from app.blueprints.rosters import service
    from app.tenants.context import tenant_scope

    create_pattern(client, district, rotation(district, district.crew))
    at = local("2026-03-03 20:00")  # day 2: crew3

    with app.app_context(), tenant_scope([district.tenant.id]):
        [shift] = service.on_duty(unit_id=district.unit_id, at=at)
        assert shift.user.username == "crew3"
        assert shift.starts_at == local("2026-03-03 08:00") and shift.ends_at - shift.starts_at == timedelta(hours=24)
        assert shift.starts_at.utcoffset() == timedelta(0)  # aware UTC inside the app
        assert service.on_duty(unit_id=district.other_unit_id, at=at) == []
