"""Emergency units (Article 12: 24-hour duty) with nobody on duty now or within 24 h are listed, with the gap."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import auth
from tests.test_roster_support import create_pattern, district, local, rotation  # noqa: F401


def gaps(client, district, at=None, headers=None) -> dict:
    response = client.get(district.gaps_url, headers=headers or district.headers["admin"],
                          query_string={"at": at.isoformat()} if at else None)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def gaps_of(body: dict, short_name: str) -> list[tuple[str, str, bool, bool]]:
    return [(g["starts_at"], g["ends_at"], g["is_now"], g["is_open_ended"])
            for g in body["gaps"] if g["unit"]["short_name"] == short_name]


def test_an_empty_emergency_roster_is_a_gap_from_now_for_24_hours(client, district, sql):
    before = datetime.now(UTC)
    body = gaps(client, district)
    after = datetime.now(UTC)

    assert body["tenant_code"] == district.tenant.code and body["time_zone"] == "Asia/Shanghai"
    checked_from = datetime.fromisoformat(body["checked_from"])
    assert before - timedelta(milliseconds=1) <= checked_from <= after
    assert checked_from.utcoffset() == timedelta(hours=8)
    assert datetime.fromisoformat(body["checked_until"]) - checked_from == timedelta(hours=24)
    emergency = {name for (name,) in sql("SELECT short_name FROM units WHERE tenant_id = :t "
                                         "AND duty_class = 'emergency'", t=district.tenant.id)}
    assert len(emergency) >= 8 and {g["unit"]["short_name"] for g in body["gaps"]} == emergency
    for gap in body["gaps"]:
        assert (gap["starts_at"], gap["ends_at"]) == (body["checked_from"], body["checked_until"])
        assert gap["is_now"] and gap["is_open_ended"] and gap["unit"]["duty_class"] == "emergency"


def test_a_roster_that_runs_out_within_24_hours_warns_of_the_gap_ahead(client, district):
    # crew1 on duty 2026-03-01 08:00 - 03-02 08:00, then the pattern ends.
    create_pattern(client, district, rotation(district, district.crew[:1], ends_on="2026-03-01"))

    assert gaps_of(gaps(client, district, at=local("2026-03-01 20:00")), "建设") == [
        ("2026-03-02T08:00:00+08:00", "2026-03-02T20:00:00+08:00", False, True)]
    # Still fully covered for the 24 hours from 08:00: not listed.
    assert gaps_of(gaps(client, district, at=local("2026-03-01 08:00")), "建设") == []
    # Nobody on duty yet before the pattern starts: a gap now, until it starts.
    assert gaps_of(gaps(client, district, at=local("2026-02-28 20:00")), "建设") == [
        ("2026-02-28T20:00:00+08:00", "2026-03-01T08:00:00+08:00", True, False)]


def test_uncovered_nights_are_listed_with_start_and_end(client, district):
    # Days only: 08:00 - 20:00, nobody at night.
    create_pattern(client, district, rotation(district, district.crew[:2], name="白班", shift_hours=12,
                                              every_hours=24))

    body = gaps(client, district, at=local("2026-03-03 10:00"))

    assert gaps_of(body, "建设") == [("2026-03-03T20:00:00+08:00", "2026-03-04T08:00:00+08:00", False, False)]
    assert gaps_of(gaps(client, district, at=local("2026-03-03 23:00")), "建设") == [
        ("2026-03-03T23:00:00+08:00", "2026-03-04T08:00:00+08:00", True, False),
        ("2026-03-04T20:00:00+08:00", "2026-03-04T23:00:00+08:00", False, True)]


def test_a_non_emergency_unit_is_not_warned(client, district, factory, sql):
    standard = factory.unit_id(district.tenant, "民政")
    assert sql("SELECT duty_class FROM units WHERE id = :u", u=standard)[0][0] == "standard"

    body = gaps(client, district, at=local("2026-03-01 12:00"))

    listed = {gap["unit"]["id"] for gap in body["gaps"]}
    assert district.unit_id in listed and standard not in listed
    assert {gap["unit"]["duty_class"] for gap in body["gaps"]} == {"emergency"}


def test_a_shift_of_someone_who_left_the_unit_covers_nothing(client, district):
    create_pattern(client, district, rotation(district, district.crew[:1]))
    at = local("2026-03-05 12:00")
    assert gaps_of(gaps(client, district, at=at), "建设") == []

    response = client.patch(f"/api/v1/t/{district.tenant.code}/users/{district.crew[0].id}",
                            json={"is_active": False}, headers=district.headers["admin"])
    assert response.status_code == 200

    assert gaps_of(gaps(client, district, at=at), "建设") == [
        ("2026-03-05T12:00:00+08:00", "2026-03-06T12:00:00+08:00", True, True)]
    # The roster still shows the shift, flagged, so the office sees what to fix.
    response = client.get(district.roster("shifts"), headers=district.headers["admin"],
                          query_string={"from": at.isoformat(), "to": (at + timedelta(hours=1)).isoformat()})
    [shift] = response.get_json()["shifts"]
    assert shift["user"]["username"] == "crew1" and shift["is_eligible"] is False


def test_every_role_of_the_district_and_its_provincial_supervisor_see_the_warning(client, district, factory):
    readers = [factory.user(district.tenant, role) for role in ("dispatcher", "leader")]
    readers += [district.liaison, district.crew[0]]
    readers.append(factory.user(None, "provincial_supervisor", province_code=district.tenant.province_code))
    for user in readers:
        body = gaps(client, district, headers=auth(client, user))
        assert any(gap["unit"]["id"] == district.unit_id for gap in body["gaps"]), user.username
