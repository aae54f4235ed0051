"""The SMS gateway is down: the outbox retries with exponential backoff, the office sees the failures,
and delivery succeeds once the gateway is back (by the next retry, or the office's retry)."""
from __future__ import annotations

from tests.factories import assert_error
from tests.reminders_support import (District, Receiver, district, issue_one, make_due, make_incident,  # noqa: F401
                                     put_endpoint, set_phone, sweep, tuned, wait_for)


def _sms(sql):
    return sql("SELECT id, recipient_user_id, address, state, attempts, next_attempt_at, last_error, sent_at, "
               "dedupe_key FROM notifications WHERE channel = 'sms' ORDER BY id")


def test_retries_with_backoff_then_failed_then_retried_by_the_office(app, client, district: District, sql,
                                                                      same_database):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]  # before the phones: only
    set_phone(sql, d.liaison.id, "13800000001")                                 # reminders are under test
    set_phone(sql, d.unit_leader.id, "13800000002")
    with Receiver(secret="gateway-secret-123456") as gateway, \
            tuned(app, notify_backoff_seconds=1, notify_backoff_max_seconds=60, notify_max_attempts=3):
        gateway.status = 503
        put_endpoint(client, d, channel="sms", target=gateway.url, secret="gateway-secret-123456")
        make_due(sql, instruction_id, "acknowledge", "yellow")
        sweep(app, d.tenant.id)  # fires the step and tries the SMS at once

        (row,) = _sms(sql)
        assert (row.address, row.state, row.attempts, row.last_error) == ("13800000001", "pending", 1, "HTTP 503")
        gaps = []
        for attempt in (2, 3):
            previous = row
            wait_for(lambda: sql("SELECT now() >= :t", t=previous.next_attempt_at)[0][0], timeout=10)
            sweep(app, d.tenant.id)
            (row,) = _sms(sql)
            assert row.attempts == attempt
            gaps.append(previous.next_attempt_at)
        # Backoff doubles: 1 s after the first attempt, 2 s after the second; the third was the last.
        assert row.state == "failed" and row.next_attempt_at is None and row.last_error == "HTTP 503"
        assert len(gateway.requests) == 3 and gateway.delivered == {}
        keys = {r["headers"]["Idempotency-Key"] for r in gateway.requests}
        assert len(keys) == 1  # every attempt carries the same idempotency key

        # The office sees it; so does the desk; a unit user does not.
        listed = client.get(d.url("notifications", "deliveries") + "?state=failed", headers=d.h(d.office))
        assert listed.status_code == 200
        assert [(x["id"], x["channel"], x["attempts"], x["last_error"]) for x in listed.get_json()] == [
            (row.id, "sms", 3, "HTTP 503")]
        assert client.get(d.url("notifications", "deliveries"), headers=d.h(d.desk)).status_code == 200
        assert_error(client.get(d.url("notifications", "deliveries"), headers=d.h(d.liaison)), 403)

        # Meanwhile the red step wrote an SMS to the unit leader, pending its first try.
        gateway.status = 200
        make_due(sql, instruction_id, "acknowledge", "red")
        sweep(app, d.tenant.id)
        states = {r.recipient_user_id: r.state for r in _sms(sql)}
        assert states == {d.liaison.id: "failed", d.unit_leader.id: "sent"}

        # A refusal changes nothing: the failed row is not sent yet, a sent row cannot be retried.
        sent_id = next(r.id for r in _sms(sql) if r.state == "sent")
        unchanged = same_database()
        assert_error(client.post(d.url("notifications", "deliveries", sent_id, "retry"), headers=d.h(d.office)),
                     409, "delivery_not_failed")
        assert_error(client.post(d.url("notifications", "deliveries", 987654, "retry"), headers=d.h(d.office)),
                     404, "delivery_not_found")
        assert_error(client.post(d.url("notifications", "deliveries", row.id, "retry"), headers=d.h(d.desk)), 403)
        unchanged()

        retried = client.post(d.url("notifications", "deliveries", row.id, "retry"), headers=d.h(d.office))
        assert retried.status_code == 200 and retried.get_json()["state"] == "pending"
        sweep(app, d.tenant.id)
        final = {r.recipient_user_id: r for r in _sms(sql)}
        assert final[d.liaison.id].state == "sent" and final[d.liaison.id].sent_at is not None
        delivered = [r for r in gateway.delivered.values() if r["json"]["to"] == "13800000001"]
        assert len(delivered) == 1 and delivered[0]["verified"] is True
        assert delivered[0]["json"]["text"].startswith("【催办】")
        assert sql("SELECT count(*) FROM audit_events WHERE action = 'notification.retried'")[0][0] == 1

    # Backoff spacing: the second attempt waited about 1 s, the third about 2 s.
    assert abs((gaps[1] - gaps[0]).total_seconds() - 2) < 1.5
