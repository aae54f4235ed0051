"""Overrides change the rotation: a replacement takes over a shift, a swap is two, a cancellation leaves a gap."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_roster_support import (create_override, create_pattern, district, local, on_duty,  # noqa: F401
                                       rotation, shifts)


def test_a_replacement_takes_over_a_pattern_shift(client, district):
    a, b, c, d = district.crew
    create_pattern(client, district, rotation(district, [a, b, c, d]))
    # crew3's shift on day 6 (2026-03-07 08:00 - 03-08 08:00) goes to crew1.
    override = create_override(client, district, {
        "kind": "replace", "user_id": a.id, "replaced_user_id": c.id, "note": "crew3 病假",
        "starts_at": "2026-03-07T08:00:00+08:00", "ends_at": "2026-03-08T08:00:00+08:00"})

    assert on_duty(client, district, local("2026-03-07 12:00")) == ["crew1"]
    assert on_duty(client, district, local("2026-03-08 12:00")) == ["crew4"]   # the rotation goes on
    [shift] = shifts(client, district, local("2026-03-07 12:00"), local("2026-03-07 13:00"))
    assert shift["override_ids"] == [override["id"]] and len(shift["pattern_ids"]) == 1
    assert (shift["starts_at"], shift["ends_at"]) == ("2026-03-07T08:00:00+08:00", "2026-03-08T08:00:00+08:00")


def test_a_swap_is_two_replacements(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a, b]))
    for user, replaced, day in ((b, a, "03"), (a, b, "04")):   # crew1 has the 3rd, crew2 the 4th
        create_override(client, district, {
            "kind": "replace", "user_id": user.id, "replaced_user_id": replaced.id,
            "starts_at": f"2026-03-{day}T08:00:00+08:00", "ends_at": f"2026-03-{int(day) + 1:02d}T08:00:00+08:00"})

    assert on_duty(client, district, local("2026-03-03 09:00")) == ["crew2"]
    assert on_duty(client, district, local("2026-03-04 09:00")) == ["crew1"]
    assert on_duty(client, district, local("2026-03-05 09:00")) == ["crew1"]   # back to the rotation


def test_a_partial_replacement_splits_the_shift(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a]))
    create_override(client, district, {"kind": "replace", "user_id": b.id, "replaced_user_id": a.id,
                                       "starts_at": "2026-03-02T20:00:00+08:00",
                                       "ends_at": "2026-03-03T02:00:00+08:00"})

    found = shifts(client, district, local("2026-03-02 08:00"), local("2026-03-03 07:00"))

    assert [(s["user"]["username"], s["starts_at"][11:16], s["ends_at"][11:16]) for s in found] == [
        ("crew1", "08:00", "20:00"), ("crew2", "20:00", "02:00"), ("crew1", "02:00", "08:00")]


def test_a_cancellation_takes_the_person_off_duty_and_a_later_extra_wins(client, district):
    a, b = district.crew[:2]
    create_pattern(client, district, rotation(district, [a]))
    create_override(client, district, {"kind": "cancel", "user_id": a.id, "starts_at": "2026-03-05T08:00:00+08:00",
                                       "ends_at": "2026-03-06T08:00:00+08:00"})
    assert on_duty(client, district, local("2026-03-05 12:00")) == []

    # Overrides apply in the order they were made: this extra comes after the cancellation.
    create_override(client, district, {"kind": "extra", "user_id": b.id, "starts_at": "2026-03-05T08:00:00+08:00",
                                       "ends_at": "2026-03-06T08:00:00+08:00"})
    assert on_duty(client, district, local("2026-03-05 12:00")) == ["crew2"]


def test_replacing_or_cancelling_someone_not_on_duty_is_refused(client, district):
    a, b, c = district.crew[:3]
    create_pattern(client, district, rotation(district, [a, b]))
    when = {"starts_at": "2026-03-01T08:00:00+08:00", "ends_at": "2026-03-02T08:00:00+08:00"}  # crew1's day

    replace = client.post(district.roster("overrides"), headers=district.headers["admin"],
                          json={"kind": "replace", "user_id": c.id, "replaced_user_id": b.id, **when})
    cancel = client.post(district.roster("overrides"), headers=district.headers["admin"],
                         json={"kind": "cancel", "user_id": b.id, **when})

    assert assert_error(replace, 409, "not_on_duty")["errors"] == {
        "replaced_user_id": ["Not on duty in this interval."]}
    assert assert_error(cancel, 409, "not_on_duty")["errors"] == {"user_id": ["Not on duty in this interval."]}
