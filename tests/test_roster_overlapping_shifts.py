"""Overlapping shifts: two people may be on duty at once; one person is never on duty twice at once.

Decision: an override that would put a person on duty while they already are is refused
(409 `user_already_on_duty`); patterns repeat without end and may still meet each other,
so reading merges one person's overlapping shifts into a single shift.
"""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_roster_support import (create_override, create_pattern, district, local, on_duty,  # noqa: F401
                                       rotation, shifts)


def test_two_patterns_put_two_people_on_duty_at_once(client, district):
    a, b, c, d = district.crew
    create_pattern(client, district, rotation(district, [a, b], name="班长"))
    create_pattern(client, district, rotation(district, [c, d], name="队员"))

    assert on_duty(client, district, local("2026-03-01 09:00")) == ["crew1", "crew3"]
    assert on_duty(client, district, local("2026-03-02 09:00")) == ["crew2", "crew4"]


def test_an_extra_shift_beside_someone_else_is_allowed(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a]))

    create_override(client, district, {"kind": "extra", "user_id": b.id, "starts_at": "2026-03-01T10:00:00+08:00",
                                       "ends_at": "2026-03-01T14:00:00+08:00", "note": "防汛加强"})

    assert on_duty(client, district, local("2026-03-01 11:00")) == ["crew1", "crew2"]
    assert on_duty(client, district, local("2026-03-01 14:00")) == ["crew1"]


def test_an_extra_shift_overlapping_the_same_persons_duty_is_refused(client, district, sql):
    a = district.crew[0]
    create_pattern(client, district, rotation(district, [a], starts_on="2026-03-01", ends_on="2026-03-01"))
    overlapping = {"kind": "extra", "user_id": a.id, "starts_at": "2026-03-02T06:00:00+08:00",
                   "ends_at": "2026-03-02T12:00:00+08:00"}

    response = client.post(district.roster("overrides"), json=overlapping, headers=district.headers["admin"])

    body = assert_error(response, 409, "user_already_on_duty")
    assert "2026-03-01 08:00 - 2026-03-02 08:00 (Asia/Shanghai)" in body["message"]
    assert sql("SELECT count(*) FROM roster_overrides")[0][0] == 0
    # Starting where the shift ends is no overlap: the shift is extended by a second one.
    create_override(client, district, {**overlapping, "starts_at": "2026-03-02T08:00:00+08:00"})
    assert on_duty(client, district, local("2026-03-02 11:00")) == ["crew1"]


def test_a_replacement_by_someone_already_on_duty_then_is_refused(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a], name="甲"))
    create_pattern(client, district, rotation(district, [b], name="乙"))

    response = client.post(district.roster("overrides"), headers=district.headers["admin"], json={
        "kind": "replace", "user_id": b.id, "replaced_user_id": a.id,
        "starts_at": "2026-03-03T08:00:00+08:00", "ends_at": "2026-03-04T08:00:00+08:00"})

    assert_error(response, 409, "user_already_on_duty")


def test_two_patterns_giving_one_person_overlapping_shifts_are_merged_on_read(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a, b], name="日轮班"))             # a: 1st 08:00 - 2nd 08:00
    create_pattern(client, district, rotation(district, [a], name="夜间值守", start_time="20:00",
                                              shift_hours=12, starts_on="2026-03-01", ends_on="2026-03-01"))

    found = shifts(client, district, local("2026-03-01 08:00"), local("2026-03-02 12:00"))

    assert [(s["user"]["username"], s["starts_at"], s["ends_at"], len(s["pattern_ids"])) for s in found] == [
        ("crew1", "2026-03-01T08:00:00+08:00", "2026-03-02T08:00:00+08:00", 2),  # one shift, not two
        ("crew2", "2026-03-02T08:00:00+08:00", "2026-03-03T08:00:00+08:00", 1),
    ]
    assert on_duty(client, district, local("2026-03-01 21:00")) == ["crew1"]
