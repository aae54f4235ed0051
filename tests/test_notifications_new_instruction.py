"""通知 itself: issuing an instruction tells the unit at once — an in-app message to its liaisons and the
people on duty, written in the issuing transaction, and an SMS and a copy to the unit's webhook after
commit. A re-issued instruction (重新下达) is announced again; the other units hear nothing."""
from __future__ import annotations

from tests.reminders_support import (District, Receiver, district, issue_one, make_incident,  # noqa: F401
                                     put_endpoint, put_on_duty, set_phone, sweep)
from tests.test_instruction_support import act


def _notices(sql, kind="instruction.issued"):
    return sql("SELECT recipient_user_id, unit_id, channel, state, title, body, data FROM notifications "
               "WHERE kind = :k ORDER BY id", k=kind)


def test_issuing_notifies_the_liaison_and_the_people_on_duty(app, client, district: District, sql):
    d = district
    set_phone(sql, d.liaison.id, "13900000001")
    put_on_duty(app, d.tenant, d.responder)
    with Receiver(secret="unit-webhook-secret-2026") as hook:
        put_endpoint(client, d, channel="webhook", unit_id=d.unit_id, target=hook.url,
                     secret="unit-webhook-secret-2026")
        incident_id = make_incident(app, d.tenant)
        instruction = issue_one(client, d, incident_id)

        rows = _notices(sql)
        inbox = {r.recipient_user_id for r in rows if r.channel == "inbox"}
        assert inbox == {d.liaison.id, d.responder.id}  # in the issuing transaction: there at the 201
        assert all(r.state == "sent" for r in rows if r.channel == "inbox")
        (sms,) = [r for r in rows if r.channel == "sms"]  # only the liaison has a phone
        assert sms.recipient_user_id == d.liaison.id and sms.state == "pending"
        assert sms.title.startswith("【新指令】") and "[New instruction]" in sms.title
        number = sql("SELECT number FROM incidents WHERE id = :i", i=incident_id)[0][0]
        assert number in sms.title and f"/instructions/{instruction['id']}" in sms.body
        assert "签收时限" in sms.body and sms.data["instruction_id"] == instruction["id"]

        sweep(app, d.tenant.id)
        assert {r.channel: r.state for r in _notices(sql)} == {"inbox": "sent", "sms": "sent", "webhook": "sent"}
        (request,) = [r for r in hook.requests if r["json"]["kind"] == "instruction.issued"]
        assert request["verified"] and request["json"]["data"]["instruction_id"] == instruction["id"]

    # The liaison's inbox API shows it, unread.
    listed = client.get(d.url("inbox"), headers=d.h(d.liaison)).get_json()
    assert [n["kind"] for n in listed] == ["instruction.issued"] and listed[0]["read_at"] is None
    # Another unit was not instructed: it hears nothing.
    assert not sql("SELECT 1 FROM notifications WHERE recipient_user_id = :u", u=d.gas_liaison.id)


def test_a_reissued_instruction_is_announced_again(app, client, district: District, sql):
    d = district
    instruction = issue_one(client, d, make_incident(app, d.tenant))
    act(client, d, instruction["id"], "return", d.liaison, reason="不属于本单位职责")
    act(client, d, instruction["id"], "reissue", d.desk, note="经核实属于本单位职责，请处置")

    inbox = [r for r in _notices(sql) if r.channel == "inbox" and r.recipient_user_id == d.liaison.id]
    assert len(inbox) == 2  # the issue and the re-issue, each once
    assert all(r.title.startswith("【新指令】") for r in inbox)
