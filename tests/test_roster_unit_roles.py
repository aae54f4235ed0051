"""Who may change a roster: the linkage office any unit's, a unit's liaison or leader only their own.

Everyone of the district reads (the desk needs who is on duty); the provincial supervisor reads only.
"""
from __future__ import annotations

import pytest

from tests.factories import assert_error, auth
from tests.test_roster_support import create_override, create_pattern, district, rotation  # noqa: F401

EXTRA = {"kind": "extra", "starts_at": "2026-03-03T08:00:00+08:00", "ends_at": "2026-03-03T20:00:00+08:00"}


def test_another_units_liaison_is_refused_and_nothing_changes(client, district, sql):
    created = create_pattern(client, district, rotation(district, district.crew[:2]))
    override = create_override(client, district, {**EXTRA, "user_id": district.crew[2].id})
    headers = auth(client, district.other_liaison)   # liaison of 供电, not of 建设
    before = sql("SELECT count(*) FROM audit_events")[0][0]

    calls = [
        client.post(district.roster("patterns"), json=rotation(district, district.crew, name="越权"), headers=headers),
        client.patch(district.roster("patterns", created["id"]), json={"name": "越权"}, headers=headers),
        client.delete(district.roster("patterns", created["id"]), headers=headers),
        client.post(district.roster("overrides"), json={**EXTRA, "user_id": district.crew[3].id}, headers=headers),
        client.patch(district.roster("overrides", override["id"]), json={"note": "越权"}, headers=headers),
        client.delete(district.roster("overrides", override["id"]), headers=headers),
    ]

    for response in calls:
        assert_error(response, 403, "not_your_unit")
    assert sql("SELECT name FROM roster_patterns") == [(created["name"],)]
    assert sql("SELECT note FROM roster_overrides") == [("",)]
    assert sql("SELECT count(*) FROM audit_events")[0][0] == before
    # Their own unit's roster they may change.
    create_pattern(client, district, rotation(district, [district.other_liaison], name="供电值班"),
                   headers=headers, unit_id=district.other_unit_id)


@pytest.mark.parametrize("who", ["liaison", "leader"])
def test_the_units_own_liaison_and_leader_manage_its_roster(client, district, who):
    headers = auth(client, getattr(district, who))
    created = create_pattern(client, district, rotation(district, district.crew), headers=headers)
    override = create_override(client, district, {**EXTRA, "user_id": district.crew[3].id}, headers=headers)
    assert client.patch(district.roster("patterns", created["id"]), json={"shift_hours": 12},
                        headers=headers).status_code == 200
    assert client.delete(district.roster("overrides", override["id"]), headers=headers).status_code == 204
    assert client.delete(district.roster("patterns", created["id"]), headers=headers).status_code == 204


def test_the_office_manages_any_units_roster(client, district):
    create_pattern(client, district, rotation(district, [district.other_liaison]), unit_id=district.other_unit_id)


@pytest.mark.parametrize("role", ["dispatcher", "leader", "responder"])
def test_other_district_roles_read_but_do_not_change(client, district, factory, role):
    user = factory.user(district.tenant, role, unit_id=district.unit_id if role == "responder" else None)
    headers = auth(client, user)
    create_pattern(client, district, rotation(district, district.crew))

    assert client.get(district.roster("patterns"), headers=headers).status_code == 200
    assert client.get(district.roster("on-duty"), headers=headers).status_code == 200
    assert client.get(district.roster("shifts"), headers=headers).status_code == 200
    assert client.get(district.roster("overrides"), headers=headers).status_code == 200
    response = client.post(district.roster("patterns"), json=rotation(district, district.crew, name="x"),
                           headers=headers)
    assert_error(response, 403, "forbidden")


def test_the_provincial_supervisor_reads_only(client, district, factory):
    supervisor = factory.user(None, "provincial_supervisor", province_code=district.tenant.province_code)
    headers = auth(client, supervisor)
    created = create_pattern(client, district, rotation(district, district.crew))

    assert client.get(district.roster("patterns", created["id"]), headers=headers).status_code == 200
    assert client.get(district.roster("on-duty"), headers=headers).status_code == 200
    assert_error(client.delete(district.roster("patterns", created["id"]), headers=headers), 403, "read_only")


def test_another_districts_office_finds_nothing(client, district, factory):
    other = factory.tenant("110105", "朝阳区")
    stranger = auth(client, factory.user(other, "tenant_admin"))
    created = create_pattern(client, district, rotation(district, district.crew))

    assert_error(client.get(district.roster("patterns", created["id"]), headers=stranger), 404, "tenant_not_found")
    # Through their own district's path, this district's unit does not exist.
    own_path = district.roster("patterns", created["id"]).replace(district.tenant.code, other.code)
    assert_error(client.get(own_path, headers=stranger), 404, "unit_not_found")
    assert_error(client.delete(own_path, headers=stranger), 404, "unit_not_found")
