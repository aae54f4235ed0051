"""The linkage office manages its units: fields, numbered responsibilities, uniqueness, who may do what."""
from __future__ import annotations

from tests.factories import assert_error, auth

WATER = {"name": "区水务局", "short_name": "水务", "duty_class": "standard",
         "responsibilities": [{"number": 1, "text": "负责处置水利工程出现的险情"},
                              {"number": 2, "text": "负责处置因水资源开发利用引发的纠纷"}],
         "duty_phone": "0935-2210000", "liaison_name": "李明", "liaison_title": "科长",
         "liaison_phone": "13909350000", "webhook_url": "https://water.example.gov.cn/hook"}


def _admin(client, factory, template=None):
    tenant = factory.tenant(template=template)
    admin = factory.user(tenant, "tenant_admin")
    return tenant, auth(client, admin)


def test_office_creates_a_unit_with_numbered_responsibilities(client, factory, sql):
    tenant, headers = _admin(client, factory)

    response = client.post("/api/v1/t/620602/units", headers=headers, json=WATER)

    assert response.status_code == 201, response.get_json()
    unit = response.get_json()
    assert [(r["number"], r["text"]) for r in unit["responsibilities"]] == [
        (1, "负责处置水利工程出现的险情"), (2, "负责处置因水资源开发利用引发的纠纷")]
    assert unit["kind"] == "linkage" and unit["is_active"] is True
    assert sql("SELECT action FROM audit_events WHERE target_type = 'unit'")[0][0] == "unit.created"


def test_duplicate_names_and_short_names_are_409(client, factory, sql):
    _tenant, headers = _admin(client, factory)
    client.post("/api/v1/t/620602/units", headers=headers, json=WATER)

    same_name = client.post("/api/v1/t/620602/units", headers=headers, json={**WATER, "short_name": "水务2"})
    same_short = client.post("/api/v1/t/620602/units", headers=headers, json={**WATER, "name": "区水务局二"})

    assert_error(same_name, 409, "unit_name_taken")
    assert_error(same_short, 409, "unit_short_name_taken")
    assert sql("SELECT count(*) FROM units")[0][0] == 1


def test_the_same_names_are_fine_in_another_district(client, factory):
    _tenant, headers = _admin(client, factory)
    client.post("/api/v1/t/620602/units", headers=headers, json=WATER)
    other = factory.tenant("620102", "城关区", template=None)
    other_headers = auth(client, factory.user(other, "tenant_admin"))

    assert client.post("/api/v1/t/620102/units", headers=other_headers, json=WATER).status_code == 201


def test_repeated_responsibility_numbers_are_refused(client, factory, sql):
    _tenant, headers = _admin(client, factory)
    body = {**WATER, "responsibilities": [{"number": 1, "text": "a"}, {"number": 1, "text": "b"}]}

    assert_error(client.post("/api/v1/t/620602/units", headers=headers, json=body), 422,
                 "duplicate_responsibility_number")
    assert sql("SELECT count(*) FROM units")[0][0] == 0


def test_patch_replaces_responsibilities_keeping_the_rows_of_kept_numbers(client, factory, sql):
    _tenant, headers = _admin(client, factory)
    unit = client.post("/api/v1/t/620602/units", headers=headers, json=WATER).get_json()
    first_id = unit["responsibilities"][0]["id"]

    response = client.patch(f"/api/v1/t/620602/units/{unit['id']}", headers=headers, json={
        "responsibilities": [{"number": 1, "text": "负责防汛抗旱"}, {"number": 3, "text": "查处非法采砂"}]})

    assert response.status_code == 200
    assert [(r["id"] == first_id, r["number"], r["text"]) for r in response.get_json()["responsibilities"]] == [
        (True, 1, "负责防汛抗旱"), (False, 3, "查处非法采砂")]
    assert sql("SELECT count(*) FROM unit_responsibilities")[0][0] == 2


def test_units_list_in_rule_order_and_filters(client, factory):
    _tenant, headers = _admin(client, factory, template="liangzhou")

    everything = client.get("/api/v1/t/620602/units?page_size=200", headers=headers).get_json()
    emergency = client.get("/api/v1/t/620602/units?duty_class=emergency&page_size=200", headers=headers).get_json()
    police = client.get("/api/v1/t/620602/units?kind=police", headers=headers).get_json()

    assert everything[0]["name"] == "区公安局"
    assert {unit["duty_class"] for unit in emergency} == {"emergency"}
    assert [unit["name"] for unit in police] == ["区公安局"]


def test_every_district_role_reads_units_but_only_the_office_writes(client, factory):
    tenant, headers = _admin(client, factory)
    desk = auth(client, factory.user(tenant, "dispatcher"))
    created = client.post("/api/v1/t/620602/units", headers=headers, json=WATER).get_json()

    assert client.get(f"/api/v1/t/620602/units/{created['id']}", headers=desk).status_code == 200
    assert_error(client.post("/api/v1/t/620602/units", headers=desk, json=WATER), 403, "forbidden")
    assert_error(client.patch(f"/api/v1/t/620602/units/{created['id']}", headers=desk, json={"name": "x"}),
                 403, "forbidden")


def test_bad_webhook_urls_and_phones_are_refused(client, factory, sql):
    _tenant, headers = _admin(client, factory)

    bad_url = client.post("/api/v1/t/620602/units", headers=headers, json={**WATER, "webhook_url": "ftp://x"})
    bad_phone = client.post("/api/v1/t/620602/units", headers=headers, json={**WATER, "duty_phone": "call me"})

    assert_error(bad_url, 422, "validation_error")
    assert_error(bad_phone, 422, "validation_error")
    assert sql("SELECT count(*) FROM units")[0][0] == 0
