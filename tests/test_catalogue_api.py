"""The dispatch catalogue: two levels, this district's units only, routes that make sense."""
from __future__ import annotations

import pytest

from tests.factories import assert_error, auth


@pytest.fixture
def office(client, factory):
    tenant = factory.tenant()
    headers = auth(client, factory.user(tenant, "tenant_admin"))
    ids = {short: factory.unit_id(tenant, short) for short in ("公安", "建设", "天然气", "市政")}
    group = client.post("/api/v1/t/620602/categories", headers=headers,
                        json={"code": "GAS", "name": "测试燃气组"}).get_json()
    return tenant, headers, ids, group


def gas_leak(ids, group, **changes):
    return {"code": "GAS-LEAK", "name": "燃气泄漏", "parent_id": group["id"], "lead_unit_id": ids["天然气"],
            "assisting_unit_ids": [ids["建设"]], "route": "police_first", "severity": "urgent",
            "keywords": ["煤气味", "燃气泄漏", "天然气味"], "description": "管道破裂、燃气泄漏",
            "needs_site_visit": True, "time_limits": {"ack_minutes": 5, "arrive_minutes": {"urban": 15}},
            **changes}


def test_office_creates_a_level_two_category(client, office, sql):
    _tenant, headers, ids, group = office

    response = client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(ids, group))

    assert response.status_code == 201, response.get_json()
    category = response.get_json()
    assert (category["level"], category["lead_unit_id"], category["assisting_unit_ids"]) == (
        2, ids["天然气"], [ids["建设"]])
    assert category["time_limits"] == {"ack_minutes": 5, "arrive_minutes": {"urban": 15}}
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'category.created'")[0][0] == 2


def test_duplicate_codes_and_sibling_names_are_409(client, office, sql):
    _tenant, headers, ids, group = office
    client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(ids, group))

    same_code = client.post("/api/v1/t/620602/categories", headers=headers,
                            json=gas_leak(ids, group, name="另一个"))
    same_name = client.post("/api/v1/t/620602/categories", headers=headers,
                            json=gas_leak(ids, group, code="GAS-2"))

    assert_error(same_code, 409, "category_code_taken")
    assert_error(same_name, 409, "category_name_taken")
    assert sql("SELECT count(*) FROM categories WHERE code IN ('GAS', 'GAS-LEAK', 'GAS-2')")[0][0] == 2


def test_a_category_cannot_point_at_another_districts_unit(client, office, factory, sql):
    _tenant, headers, ids, group = office
    other = factory.tenant("620102", "城关区")
    foreign_unit = factory.unit_id(other, "天然气")

    as_lead = client.post("/api/v1/t/620602/categories", headers=headers,
                          json=gas_leak(ids, group, lead_unit_id=foreign_unit))
    as_assist = client.post("/api/v1/t/620602/categories", headers=headers,
                            json=gas_leak(ids, group, assisting_unit_ids=[foreign_unit]))

    assert_error(as_lead, 422, "unit_not_found")
    assert_error(as_assist, 422, "unit_not_found")
    assert sql("SELECT count(*) FROM categories WHERE code = 'GAS-LEAK'")[0][0] == 0


def test_three_levels_are_refused(client, office):
    _tenant, headers, ids, group = office
    leak = client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(ids, group)).get_json()

    response = client.post("/api/v1/t/620602/categories", headers=headers,
                           json=gas_leak(ids, group, code="DEEP", name="更深", parent_id=leak["id"]))

    assert_error(response, 422, "too_deep")


def test_level_two_needs_a_lead_unit(client, office):
    _tenant, headers, ids, group = office

    response = client.post("/api/v1/t/620602/categories", headers=headers,
                           json=gas_leak(ids, group, lead_unit_id=None))

    assert_error(response, 422, "lead_unit_required")


def test_a_police_route_is_led_by_the_police_unit(client, office):
    _tenant, headers, ids, group = office

    wrong = client.post("/api/v1/t/620602/categories", headers=headers,
                        json=gas_leak(ids, group, code="THEFT", name="盗窃", route="police"))
    right = client.post("/api/v1/t/620602/categories", headers=headers,
                        json=gas_leak(ids, group, code="THEFT", name="盗窃", route="police",
                                      lead_unit_id=ids["公安"], assisting_unit_ids=[]))

    assert_error(wrong, 422, "police_route_needs_police_unit")
    assert right.status_code == 201


def test_the_lead_unit_cannot_also_assist(client, office):
    _tenant, headers, ids, group = office

    response = client.post("/api/v1/t/620602/categories", headers=headers,
                           json=gas_leak(ids, group, assisting_unit_ids=[ids["天然气"]]))

    assert_error(response, 422, "lead_also_assisting")


def test_two_resolve_units_in_overrides_are_refused(client, office):
    _tenant, headers, ids, group = office

    response = client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(
        ids, group, time_limits={"resolve_hours": 4, "resolve_working_days": 2}))

    assert_error(response, 422, "validation_error")


def test_patch_changes_units_and_links_responsibilities(client, office, sql):
    tenant, headers, ids, group = office
    leak = client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(ids, group)).get_json()
    responsibility = sql("SELECT r.id FROM unit_responsibilities r JOIN units u ON u.tenant_id = r.tenant_id "
                         "AND u.id = r.unit_id WHERE u.id = :u ORDER BY r.number LIMIT 1", u=ids["天然气"])
    responsibility_ids = [row[0] for row in responsibility]

    response = client.patch(f"/api/v1/t/620602/categories/{leak['id']}", headers=headers,
                            json={"assisting_unit_ids": [ids["建设"], ids["市政"]],
                                  "responsibility_ids": responsibility_ids, "severity": "major"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["assisting_unit_ids"] == sorted([ids["建设"], ids["市政"]])
    assert body["responsibility_ids"] == responsibility_ids and body["severity"] == "major"
    audit = sql("SELECT before, after FROM audit_events WHERE action = 'category.updated'")[0]
    assert audit.before["severity"] == "urgent" and audit.after["severity"] == "major"


def test_list_filters_by_level_unit_and_text(client, office):
    _tenant, headers, ids, group = office
    client.post("/api/v1/t/620602/categories", headers=headers, json=gas_leak(ids, group))

    def codes(query):
        response = client.get(f"/api/v1/t/620602/categories?page_size=500&{query}", headers=headers)
        return {c["code"] for c in response.get_json()}

    assert "GAS" in codes("level=1") and "GAS-LEAK" not in codes("level=1")
    assert "GAS-LEAK" in codes("level=2") and "GAS" not in codes("level=2")
    assert "GAS-LEAK" in codes(f"unit_id={ids['建设']}")
    assert "GAS-LEAK" not in codes(f"unit_id={ids['公安']}")
    assert "GAS-LEAK" in codes("q=天然气味") and "GAS" not in codes("q=天然气味")
    assert codes("q=GAS-") == {"GAS-LEAK"}


def test_only_the_office_writes_the_catalogue(client, office, factory):
    tenant, _headers, ids, group = office
    desk = auth(client, factory.user(tenant, "dispatcher"))

    assert client.get("/api/v1/t/620602/categories", headers=desk).status_code == 200
    assert_error(client.post("/api/v1/t/620602/categories", headers=desk, json=gas_leak(ids, group)), 403)


def test_level_one_names_are_unique_too(client, office):
    _tenant, headers, _ids, _group = office

    response = client.post("/api/v1/t/620602/categories", headers=headers, json={"code": "GAS2", "name": "测试燃气组"})

    assert_error(response, 409, "category_name_taken")
