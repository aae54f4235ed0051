"""The desk's 催办 goes through the reminders' notification path (inbox notice as before, plus SMS and
the unit's webhook) and is counted with the automatic steps (a fired `manual/urge` timer)."""
from __future__ import annotations

from tests.factories import assert_error
from tests.reminders_support import (District, Receiver, district, issue_one, make_incident,  # noqa: F401
                                     put_endpoint, set_phone, sweep)


def test_urge_notifies_on_every_channel_and_is_counted(app, client, district: District, sql, same_database):
    d = district
    incident_id = make_incident(app, d.tenant)
    instruction_id = issue_one(client, d, incident_id)["id"]  # before the phone and hook: the new
    set_phone(sql, d.liaison.id, "13900000001")                # instruction's own notice is not under test
    with Receiver(secret="unit-webhook-secret-2026") as hook:
        put_endpoint(client, d, channel="webhook", unit_id=d.unit_id, target=hook.url,
                     secret="unit-webhook-secret-2026")
        response = client.post(d.url("incidents", incident_id, "urge"), headers=d.h(d.desk),
                               json={"instruction_id": instruction_id, "note": "群众再次来电，请尽快到场"})
        assert response.status_code == 200, response.get_json()
        sweep(app, d.tenant.id)  # delivers (the after-commit job would too)

        inbox = sql("SELECT kind, title FROM notifications WHERE recipient_user_id = :u AND channel = 'inbox' "
                    "AND kind <> 'instruction.issued'", u=d.liaison.id)
        assert [row.kind for row in inbox] == ["instruction.urged"]  # the existing notice, once
        sms = sql("SELECT address, state, title FROM notifications WHERE channel = 'sms'")
        assert [(r.address, r.state) for r in sms] == [("13900000001", "sent")] and sms[0].title.startswith("【催办】")
        (request,) = hook.requests
        assert request["verified"] and request["json"]["kind"] == "instruction.urged"
        assert "群众再次来电" in request["json"]["body"]

    timers = client.get(d.url("instructions", instruction_id, "timers"), headers=d.h(d.desk)).get_json()
    urges = [t for t in timers if t["clock"] == "manual"]
    assert [(t["step"], t["state"], t["fired_by"]) for t in urges] == [("urge", "fired", "desk")]
    assert urges[0]["outcome"]["actor_user_id"] == d.desk.id
    # The unit sees its own instruction's timers; another unit does not.
    assert client.get(d.url("instructions", instruction_id, "timers"), headers=d.h(d.liaison)).status_code == 200
    unchanged = same_database()
    assert_error(client.get(d.url("instructions", instruction_id, "timers"), headers=d.h(d.gas_liaison)), 403)
    assert_error(client.get(d.url("instructions", 987654, "timers"), headers=d.h(d.desk)), 404)
    unchanged()
