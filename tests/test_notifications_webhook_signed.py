"""A unit's webhook gets each step it should hear, signed with HMAC-SHA256 over timestamp and body;
a test receiver written from docs/reminders.md verifies it, and rejects a tampered or replayed one."""
from __future__ import annotations

import time

from tests.factories import assert_error
from tests.reminders_support import (District, Receiver, district, issue_one, make_due, make_incident,  # noqa: F401
                                     put_endpoint, sweep, verify_signature)

SECRET = "unit-webhook-secret-2026"


def test_the_receiver_verifies_the_signature(app, client, district: District, sql):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]  # its notice: not to this hook
    with Receiver(secret=SECRET) as receiver:
        shown = put_endpoint(client, d, channel="webhook", unit_id=d.unit_id, target=receiver.url, secret=SECRET)
        assert shown["has_secret"] is True and "secret" not in shown
        make_due(sql, instruction_id, "acknowledge", "yellow")
        sweep(app, d.tenant.id)

        (request,) = receiver.requests
        assert request["verified"] is True
        headers, body, payload = request["headers"], request["body"], request["json"]
        assert headers["X-Liandong-Event"] == "reminder.yellow"
        assert headers["X-Liandong-Delivery"] == headers["Idempotency-Key"] == payload["id"]
        assert payload["kind"] == "reminder.yellow" and payload["tenant"] == d.tenant.code
        assert payload["data"]["instruction_id"] == instruction_id and "【催办】" in payload["title"]
        # What a receiver must refuse: a changed body, another key, an old timestamp.
        assert not verify_signature(SECRET, headers, body + b" ")
        assert not verify_signature("another-secret-000000", headers, body)
        stale = {**headers, "X-Liandong-Timestamp": str(int(time.time()) - 3600)}
        assert not verify_signature(SECRET, stale, body)
        assert sql("SELECT state, attempts FROM notifications WHERE channel = 'webhook'") == [("sent", 1)]


def test_a_webhook_needs_a_unit_and_a_secret(app, client, district: District, same_database):
    d = district
    unchanged = same_database()
    url = d.url("notifications", "endpoints")
    assert_error(client.put(url, json={"channel": "webhook", "target": "http://x.test/h", "secret": SECRET},
                            headers=d.h(d.office)), 422, "webhook_needs_unit")
    assert_error(client.put(url, json={"channel": "webhook", "unit_id": d.unit_id, "target": "http://x.test/h"},
                            headers=d.h(d.office)), 422, "webhook_secret_required")
    assert_error(client.put(url, json={"channel": "webhook", "unit_id": d.unit_id, "target": "ftp://x",
                                       "secret": SECRET}, headers=d.h(d.office)), 422)
    assert_error(client.put(url, json={"channel": "sms", "unit_id": d.unit_id, "target": "http://x.test/s"},
                            headers=d.h(d.office)), 422, "sms_gateway_per_tenant")
    assert_error(client.put(url, json={"channel": "email", "target": "http://x.test/s"},
                            headers=d.h(d.office)), 422)
    assert_error(client.put(url, json={"channel": "webhook", "unit_id": 987654, "target": "http://x.test/h",
                                       "secret": SECRET}, headers=d.h(d.office)), 422, "unit_not_found")
    assert_error(client.put(url, json={"channel": "sms", "target": "http://x.test/s"}, headers=d.h(d.desk)), 403)
    unchanged()
