"""Rotation patterns: create, read, change and delete through the API, validated and audited."""
from __future__ import annotations

import pytest

from tests.factories import assert_error, auth
from tests.test_roster_support import create_pattern, district, local, on_duty, rotation  # noqa: F401


def audit_rows(sql, district, action: str):
    return sql("SELECT actor_user_id, target_id, before, after FROM audit_events "
               "WHERE tenant_id = :t AND action = :a ORDER BY seq", t=district.tenant.id, a=action)


def test_create_read_list_change_and_delete_a_pattern_with_an_audit_trail(client, district, sql):
    headers = district.headers["admin"]
    crew = district.crew

    created = create_pattern(client, district, rotation(district, crew, name="抢修队24小时"))

    assert {key: created[key] for key in ("name", "starts_on", "start_time", "shift_hours", "every_hours",
                                          "ends_on", "unit_id")} == {
        "name": "抢修队24小时", "starts_on": "2026-03-01", "start_time": "08:00", "shift_hours": 24,
        "every_hours": None, "ends_on": None, "unit_id": district.unit_id}
    assert created["user_ids"] == [user.id for user in crew]
    assert [(slot["position"], slot["user"]["username"], slot["is_eligible"]) for slot in created["rotation"]] == [
        (0, "crew1", True), (1, "crew2", True), (2, "crew3", True), (3, "crew4", True)]
    assert created["created_at"].endswith("+08:00")
    url = district.roster("patterns", created["id"])
    assert client.get(url, headers=headers).get_json() == created
    listed = client.get(district.roster("patterns"), headers=headers)
    assert [p["id"] for p in listed.get_json()] == [created["id"]] and "X-Pagination" in listed.headers

    # Reorder and shorten the rotation, move the handover to 09:00.
    changed = client.patch(url, headers=headers, json={"user_ids": [crew[2].id, crew[0].id], "start_time": "09:00"})

    body = changed.get_json()
    assert changed.status_code == 200, body
    assert body["user_ids"] == [crew[2].id, crew[0].id] and body["start_time"] == "09:00"
    assert [slot["position"] for slot in body["rotation"]] == [0, 1]
    assert sql("SELECT count(*) FROM roster_pattern_slots WHERE pattern_id = :p", p=created["id"])[0][0] == 2
    assert on_duty(client, district, local("2026-03-01 08:30")) == []
    assert on_duty(client, district, local("2026-03-01 09:00")) == ["crew3"]
    assert on_duty(client, district, local("2026-03-02 09:00")) == ["crew1"]

    assert client.delete(url, headers=headers).status_code == 204
    tombstone = client.get(url, headers=headers).get_json()
    assert tombstone["deleted_at"].endswith("+08:00") and {**tombstone, "deleted_at": None} == {
        **created, "user_ids": [crew[2].id, crew[0].id], "start_time": "09:00", "rotation": body["rotation"],
        "updated_at": tombstone["updated_at"]}
    assert_error(client.patch(url, json={"name": "x"}, headers=headers), 409, "pattern_deleted")
    assert client.get(district.roster("patterns"), headers=headers).get_json() == []
    assert on_duty(client, district, local("2026-03-02 09:00")) == []
    # A retry of the DELETE (its answer lost on a bad network) is answered the same way.
    assert client.delete(url, headers=headers).status_code == 204
    # The row is kept, marked deleted, and its name is free again.
    assert sql("SELECT deleted_at IS NOT NULL FROM roster_patterns WHERE id = :p", p=created["id"]) == [(True,)]
    create_pattern(client, district, rotation(district, crew, name="抢修队24小时"))

    (actor, target, before, after), _recreated = audit_rows(sql, district, "roster_pattern.created")
    assert (actor, target, before) == (district.admin.id, str(created["id"]), None)
    assert after["user_ids"] == [user.id for user in crew] and after["start_time"] == "08:00"
    [(_, _, before, after)] = audit_rows(sql, district, "roster_pattern.updated")
    assert (before["start_time"], after["start_time"]) == ("08:00", "09:00")
    assert after["user_ids"] == [crew[2].id, crew[0].id]
    [(_, _, before, after)] = audit_rows(sql, district, "roster_pattern.deleted")
    assert before["name"] == "抢修队24小时" and after is None


def test_a_change_that_changes_nothing_is_not_audited(client, district, sql):
    created = create_pattern(client, district, rotation(district, district.crew))
    response = client.patch(district.roster("patterns", created["id"]), json={"name": created["name"]},
                            headers=district.headers["admin"])
    assert response.status_code == 200
    assert audit_rows(sql, district, "roster_pattern.updated") == []


@pytest.mark.parametrize("who, code", [
    ("other_unit_responder", "user_not_in_unit"),
    ("dispatcher", "user_not_in_unit"),
    ("deactivated", "user_inactive"),
    ("unknown", "user_not_found"),
])
def test_only_active_people_of_the_unit_stand_its_duty(client, district, factory, sql, who, code):
    tenant = district.tenant
    if who == "other_unit_responder":
        user_id = factory.user(tenant, "responder", unit_id=district.other_unit_id).id
    elif who == "dispatcher":
        user_id = factory.user(tenant, "dispatcher").id
    elif who == "deactivated":
        user_id = district.crew[3].id
        client.patch(f"/api/v1/t/{tenant.code}/users/{user_id}", json={"is_active": False},
                     headers=district.headers["admin"])
    else:
        user_id = 987654321
    body = rotation(district, district.crew[:2])
    body["user_ids"].append(user_id)

    response = client.post(district.roster("patterns"), json=body, headers=district.headers["admin"])

    error = assert_error(response, 422, code)
    assert error["errors"] == {"user_ids": {"2": [error["message"]]}}
    assert sql("SELECT count(*) FROM roster_patterns")[0][0] == 0


def test_a_user_of_another_district_cannot_be_put_on_a_roster(client, district, factory):
    other = factory.tenant("110105", "朝阳区")
    stranger = factory.user(other, "responder", unit_id=factory.unit_id(other, "建设"))

    response = client.post(district.roster("patterns"), json=rotation(district, [stranger]),
                           headers=district.headers["admin"])

    assert_error(response, 422, "user_not_found")


@pytest.mark.parametrize("change, status, code, field", [
    ({"ends_on": "2026-02-28"}, 422, "ends_before_start", "ends_on"),
    ({"shift_hours": 12, "every_hours": 8}, 422, "shifts_overlap_themselves", "every_hours"),
    ({"shift_hours": 0}, 422, "validation_error", "shift_hours"),
    ({"shift_hours": 169}, 422, "validation_error", "shift_hours"),
    ({"start_time": "24:00"}, 422, "validation_error", "start_time"),
    ({"start_time": "8:00"}, 422, "validation_error", "start_time"),
    ({"starts_on": "1999-12-31"}, 422, "validation_error", "starts_on"),
    ({"user_ids": []}, 422, "validation_error", "user_ids"),
    ({"user_ids": list(range(1, 52))}, 422, "validation_error", "user_ids"),
    ({"name": ""}, 422, "validation_error", "name"),
])
def test_bad_patterns_are_refused(client, district, sql, change, status, code, field):
    response = client.post(district.roster("patterns"), json={**rotation(district, district.crew), **change},
                           headers=district.headers["admin"])
    assert field in assert_error(response, status, code)["errors"]
    assert sql("SELECT count(*) FROM roster_patterns")[0][0] == 0


def test_pattern_names_are_unique_within_a_unit_only(client, district):
    create_pattern(client, district, rotation(district, district.crew, name="24小时"))
    response = client.post(district.roster("patterns"), json=rotation(district, district.crew, name="24小时"),
                           headers=district.headers["admin"])
    assert_error(response, 409, "pattern_name_taken")
    # The other unit may use the same name (with its own people).
    other = district.other_liaison
    create_pattern(client, district, rotation(district, [other], name="24小时"), unit_id=district.other_unit_id)


def test_a_pattern_is_found_only_under_its_own_unit(client, district):
    created = create_pattern(client, district, rotation(district, district.crew))
    wrong_unit = district.roster("patterns", created["id"], unit_id=district.other_unit_id)
    assert_error(client.get(wrong_unit, headers=district.headers["admin"]), 404, "pattern_not_found")
    assert_error(client.get(district.roster("patterns", unit_id=987654321), headers=district.headers["admin"]),
                 404, "unit_not_found")


def test_a_liaison_may_edit_and_patch_validates_the_combined_pattern(client, district):
    headers = auth(client, district.liaison)
    created = create_pattern(client, district, rotation(district, district.crew, starts_on="2026-03-10"),
                             headers=headers)
    response = client.patch(district.roster("patterns", created["id"]), json={"ends_on": "2026-03-09"},
                            headers=headers)
    assert_error(response, 422, "ends_before_start")
