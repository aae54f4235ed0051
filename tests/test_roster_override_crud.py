"""One-off overrides: create, read, list, change and withdraw through the API, validated and audited."""
from __future__ import annotations

import pytest

from tests.factories import assert_error
from tests.test_roster_support import (create_override, create_pattern, district, local, on_duty,  # noqa: F401
                                       rotation)

DAY_3 = {"starts_at": "2026-03-03T08:00:00+08:00", "ends_at": "2026-03-04T08:00:00+08:00"}


@pytest.fixture
def rostered(client, district):
    """crew1 and crew2 alternate 24 h shifts from 2026-03-01 08:00 (crew1 has the 3rd)."""
    create_pattern(client, district, rotation(district, district.crew[:2]))
    return district


def audit_rows(sql, district, action: str):
    return sql("SELECT target_id, before, after FROM audit_events WHERE tenant_id = :t AND action = :a "
               "ORDER BY seq", t=district.tenant.id, a=action)


def test_create_read_list_change_and_withdraw_an_override_with_an_audit_trail(client, rostered, sql):
    district, headers = rostered, rostered.headers["admin"]
    a, b, c = district.crew[:3]

    # Given in UTC, stored as the instant, shown in Shanghai time.
    created = create_override(client, district, {
        "kind": "replace", "user_id": c.id, "replaced_user_id": a.id, "note": "调休",
        "starts_at": "2026-03-03T00:00:00Z", "ends_at": "2026-03-04T00:00:00Z"})

    assert (created["kind"], created["user"]["username"], created["replaced_user"]["username"]) == (
        "replace", "crew3", "crew1")
    assert (created["starts_at"], created["ends_at"]) == (DAY_3["starts_at"], DAY_3["ends_at"])
    url = district.roster("overrides", created["id"])
    assert client.get(url, headers=headers).get_json() == created
    assert on_duty(client, district, local("2026-03-03 12:00")) == ["crew3"]

    listed = client.get(district.roster("overrides"), headers=headers,
                        query_string={"from": "2026-03-03T12:00:00+08:00", "to": "2026-03-03T13:00:00+08:00"})
    assert [o["id"] for o in listed.get_json()] == [created["id"]]
    assert client.get(district.roster("overrides"), headers=headers,
                      query_string={"from": "2026-03-05T00:00:00+08:00"}).get_json() == []
    by_person = client.get(district.roster("overrides"), headers=headers,
                           query_string={"user_id": a.id, "kind": "replace"})
    assert [o["id"] for o in by_person.get_json()] == [created["id"]]

    # Only the afternoon now.
    changed = client.patch(url, headers=headers, json={"starts_at": "2026-03-03T12:00:00+08:00", "note": "半天"})
    assert changed.status_code == 200, changed.get_json()
    assert on_duty(client, district, local("2026-03-03 10:00")) == ["crew1"]
    assert on_duty(client, district, local("2026-03-03 13:00")) == ["crew3"]

    assert client.delete(url, headers=headers).status_code == 204
    assert on_duty(client, district, local("2026-03-03 13:00")) == ["crew1"]
    assert client.get(url, headers=headers).get_json()["deleted_at"] is not None
    assert_error(client.patch(url, json={"note": "x"}, headers=headers), 409, "override_deleted")
    assert client.get(district.roster("overrides"), headers=headers).get_json() == []
    assert client.delete(url, headers=headers).status_code == 204      # a retry: same answer, no new event

    [(target, before, after)] = audit_rows(sql, district, "roster_override.created")
    assert (target, before) == (str(created["id"]), None)
    assert after == {"unit_id": district.unit_id, "kind": "replace", "user_id": c.id, "replaced_user_id": a.id,
                     "starts_at": "2026-03-03T00:00:00+00:00", "ends_at": "2026-03-04T00:00:00+00:00", "note": "调休"}
    [(_, before, after)] = audit_rows(sql, district, "roster_override.updated")
    assert (before["starts_at"], after["starts_at"]) == ("2026-03-03T00:00:00+00:00", "2026-03-03T04:00:00+00:00")
    assert (before["note"], after["note"]) == ("调休", "半天")
    [(_, before, after)] = audit_rows(sql, district, "roster_override.deleted")
    assert before["starts_at"] == "2026-03-03T04:00:00+00:00" and after is None


def test_changing_only_the_note_skips_the_roster_checks(client, rostered):
    district = rostered
    a, b = district.crew[:2]
    extra = create_override(client, district, {"kind": "extra", "user_id": b.id, **DAY_3})
    # A later pattern now also puts crew2 on duty then; the extra is not re-judged for a note.
    create_pattern(client, district, rotation(district, [b], name="增援"))
    response = client.patch(district.roster("overrides", extra["id"]), json={"note": "增援"},
                            headers=district.headers["admin"])
    assert response.status_code == 200 and response.get_json()["note"] == "增援"


@pytest.mark.parametrize("body, status, code, field", [
    ({"kind": "extra", "starts_at": DAY_3["ends_at"], "ends_at": DAY_3["starts_at"]}, 422, "ends_before_start",
     "ends_at"),
    ({"kind": "extra", "starts_at": DAY_3["starts_at"], "ends_at": DAY_3["starts_at"]}, 422, "ends_before_start",
     "ends_at"),
    ({"kind": "extra", **DAY_3, "ends_at": "2026-04-04T08:00:00+08:00"}, 422, "override_too_long", "ends_at"),
    ({"kind": "replace", **DAY_3}, 422, "replaced_user_required", "replaced_user_id"),
    ({"kind": "extra", "replaced_user_id": "crew1", **DAY_3}, 422, "replaced_user_not_allowed",
     "replaced_user_id"),
    ({"kind": "replace", "replaced_user_id": "crew3", **DAY_3}, 422, "cannot_replace_self", "replaced_user_id"),
    ({"kind": "swap", **DAY_3}, 422, "validation_error", "kind"),
    ({"kind": "extra", "starts_at": "2026-03-03T08:00:00", "ends_at": DAY_3["ends_at"]}, 422, "validation_error",
     "starts_at"),
    ({"kind": "extra", "starts_at": "2100-01-01T00:00:00+08:00", "ends_at": "2100-01-02T00:00:00+08:00"}, 422,
     "validation_error", "starts_at"),
    ({"kind": "extra", **DAY_3, "note": "x" * 501}, 422, "validation_error", "note"),
])
def test_bad_overrides_are_refused(client, rostered, sql, body, status, code, field):
    district = rostered
    users = {user.username: user.id for user in district.crew}
    body = {"user_id": users["crew3"], **body}
    if isinstance(body.get("replaced_user_id"), str):
        body["replaced_user_id"] = users[body["replaced_user_id"]]

    response = client.post(district.roster("overrides"), json=body, headers=district.headers["admin"])

    assert field in assert_error(response, status, code)["errors"]
    assert sql("SELECT count(*) FROM roster_overrides")[0][0] == 0


def test_only_people_of_the_unit_are_put_on_duty_but_a_leaver_may_be_taken_off(client, rostered, factory):
    district = rostered
    outsider = factory.user(district.tenant, "responder", unit_id=district.other_unit_id)
    response = client.post(district.roster("overrides"), headers=district.headers["admin"],
                           json={"kind": "extra", "user_id": outsider.id, **DAY_3})
    assert assert_error(response, 422, "user_not_in_unit")["errors"] == {"user_id": [response.get_json()["message"]]}

    # crew1 moves to another unit; their rostered shift can still be handed to crew3 or cancelled.
    a, c = district.crew[0], district.crew[2]
    client.patch(f"/api/v1/t/{district.tenant.code}/users/{a.id}", json={"unit_id": district.other_unit_id},
                 headers=district.headers["admin"])
    create_override(client, district, {"kind": "replace", "user_id": c.id, "replaced_user_id": a.id, **DAY_3})
    assert on_duty(client, district, local("2026-03-03 12:00")) == ["crew3"]
    create_override(client, district, {"kind": "cancel", "user_id": a.id, "starts_at": "2026-03-05T08:00:00+08:00",
                                       "ends_at": "2026-03-06T08:00:00+08:00"})


def test_an_override_is_found_only_under_its_own_unit(client, rostered):
    district = rostered
    created = create_override(client, district, {"kind": "extra", "user_id": district.crew[2].id, **DAY_3})
    response = client.get(district.roster("overrides", created["id"], unit_id=district.other_unit_id),
                          headers=district.headers["admin"])
    assert_error(response, 404, "override_not_found")
