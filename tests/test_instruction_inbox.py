"""A unit's inbox and a responder's own tasks: unit users see only their own unit's, responders only
what names them, the desk every unit's; filtered by state, newest first."""
from __future__ import annotations

from tests.test_instruction_support import District, district, issue_one, make_incident  # noqa: F401


def _get(client, d: District, user, *parts, status: int = 200, **query):
    response = client.get(d.url(*parts), query_string=query, headers=d.h(user))
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _ids(rows) -> list[int]:
    return [row["id"] for row in rows]


def test_unit_inbox_shows_the_units_instructions_newest_first(client, app, district):
    d = district
    first = issue_one(client, d, make_incident(app, d.tenant))
    second = issue_one(client, d, make_incident(app, d.tenant))
    gas = issue_one(client, d, make_incident(app, d.tenant), unit_id=d.gas_unit_id)
    for user in (d.liaison, d.unit_leader, d.desk, d.office, d.city_leader):
        assert _ids(_get(client, d, user, "units", d.unit_id, "instructions")) == [second["id"], first["id"]]
    assert _ids(_get(client, d, d.gas_liaison, "units", d.gas_unit_id, "instructions")) == [gas["id"]]
    assert _get(client, d, d.gas_liaison, "units", d.unit_id, "instructions", status=403)["error"] == "not_your_unit"
    assert _get(client, d, d.desk, "units", 987654321, "instructions", status=404)["error"] == "unit_not_found"


def test_inbox_filters_by_state(client, app, district):
    d = district
    first = issue_one(client, d, make_incident(app, d.tenant))
    second = issue_one(client, d, make_incident(app, d.tenant))
    response = client.post(d.action_url(first["id"], "acknowledge"), json={}, headers=d.h(d.liaison))
    assert response.status_code == 200
    assert _ids(_get(client, d, d.liaison, "units", d.unit_id, "instructions", state="issued")) == [second["id"]]
    assert _ids(_get(client, d, d.liaison, "units", d.unit_id, "instructions",
                     state=["acknowledged", "issued"])) == [second["id"], first["id"]]
    assert _get(client, d, d.liaison, "units", d.unit_id, "instructions", status=422, state="nonsense")


def test_a_responder_sees_only_the_tasks_naming_them(client, app, district):
    d = district
    named = issue_one(client, d, make_incident(app, d.tenant))
    unnamed = issue_one(client, d, make_incident(app, d.tenant))
    response = client.post(d.action_url(named["id"], "acknowledge"), json={"responder_ids": [d.responder.id]},
                           headers=d.h(d.liaison))
    assert response.status_code == 200
    assert _ids(_get(client, d, d.responder, "my", "instructions")) == [named["id"]]
    assert _ids(_get(client, d, d.responder, "units", d.unit_id, "instructions")) == [named["id"]]
    assert unnamed["id"] in _ids(_get(client, d, d.liaison, "units", d.unit_id, "instructions"))
    assert _get(client, d, d.liaison, "my", "instructions") == []
    assert _get(client, d, d.desk, "my", "instructions", status=403)["error"] == "forbidden"
