"""变动报送: a liaison updates their own unit's contacts; history is kept and the office told."""
from __future__ import annotations

from tests.factories import assert_error, auth


def _setup(client, factory):
    tenant = factory.tenant()
    office = factory.user(tenant, "tenant_admin")
    unit_id = factory.unit_id(tenant, "建设")
    liaison = factory.user(tenant, "unit_liaison", unit_id=unit_id)
    return tenant, office, unit_id, liaison


def test_liaison_reports_new_contacts_kept_as_history(client, factory, sql):
    _tenant, _office, unit_id, liaison = _setup(client, factory)
    headers = auth(client, liaison)

    response = client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=headers,
                            json={"liaison_name": "王强", "liaison_phone": "13800001111"})

    assert response.status_code == 200
    assert response.get_json()["liaison_name"] == "王强"
    change = sql("SELECT changed_by_user_id, before, after FROM unit_contact_changes")[0]
    assert change.changed_by_user_id == liaison.id
    assert change.before["liaison_name"] is None and change.after["liaison_name"] == "王强"
    assert change.after["liaison_phone"] == "13800001111"


def test_the_office_is_notified_in_its_inbox(client, factory):
    _tenant, office, unit_id, liaison = _setup(client, factory)
    client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=auth(client, liaison),
                 json={"leader_name": "赵局长", "leader_phone": "13900002222"})
    office_headers = auth(client, office)

    inbox = client.get("/api/v1/t/620602/inbox", headers=office_headers).get_json()

    assert [message["kind"] for message in inbox] == ["unit.contacts_changed"]
    assert inbox[0]["title"] == "区建设局联系人变动"
    assert set(inbox[0]["data"]["changed"]) == {"leader_name", "leader_phone"}
    assert inbox[0]["read_at"] is None
    read = client.post(f"/api/v1/t/620602/inbox/{inbox[0]['id']}/read", headers=office_headers)
    assert read.get_json()["read_at"] is not None
    assert client.get("/api/v1/t/620602/inbox?unread_only=true", headers=office_headers).get_json() == []


def test_the_liaison_does_not_get_the_office_message(client, factory):
    _tenant, _office, unit_id, liaison = _setup(client, factory)
    headers = auth(client, liaison)
    client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=headers, json={"duty_phone": "0935-1234567"})

    assert client.get("/api/v1/t/620602/inbox", headers=headers).get_json() == []


def test_a_liaison_cannot_change_another_units_contacts(client, factory, sql):
    tenant, _office, _unit_id, liaison = _setup(client, factory)
    power = factory.unit_id(tenant, "供电")

    response = client.patch(f"/api/v1/t/620602/units/{power}/contacts", headers=auth(client, liaison),
                            json={"liaison_name": "冒名"})

    assert_error(response, 403, "not_your_unit")
    assert sql("SELECT count(*) FROM unit_contact_changes")[0][0] == 0


def test_an_unchanged_report_records_nothing(client, factory, sql):
    _tenant, _office, unit_id, liaison = _setup(client, factory)
    headers = auth(client, liaison)
    client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=headers, json={"duty_phone": "0935-1234567"})

    client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=headers, json={"duty_phone": "0935-1234567"})

    assert sql("SELECT count(*) FROM unit_contact_changes")[0][0] == 1


def test_history_lists_newest_first_for_the_office_and_the_unit(client, factory):
    tenant, office, unit_id, liaison = _setup(client, factory)
    headers = auth(client, liaison)
    for phone in ("0935-1000001", "0935-1000002"):
        client.patch(f"/api/v1/t/620602/units/{unit_id}/contacts", headers=headers, json={"duty_phone": phone})

    history = client.get(f"/api/v1/t/620602/units/{unit_id}/contact-changes", headers=auth(client, office))

    assert [c["after"]["duty_phone"] for c in history.get_json()] == ["0935-1000002", "0935-1000001"]
    desk = auth(client, factory.user(tenant, "dispatcher"))
    assert_error(client.get(f"/api/v1/t/620602/units/{unit_id}/contact-changes", headers=desk), 403)


def test_office_contact_edits_through_the_unit_form_are_history_too(client, factory, sql):
    _tenant, office, unit_id, _liaison = _setup(client, factory)

    client.patch(f"/api/v1/t/620602/units/{unit_id}", headers=auth(client, office), json={"duty_phone": "0935-999"})

    assert sql("SELECT after->>'duty_phone' FROM unit_contact_changes")[0][0] == "0935-999"
