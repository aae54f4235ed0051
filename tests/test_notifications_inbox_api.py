"""The in-app inbox: list (newest first, unread only), count unread, mark one or all read; only mine."""
from __future__ import annotations

from tests.factories import assert_error
from tests.reminders_support import (District, district, issue_one, make_due, make_incident,  # noqa: F401
                                     sweep)


def test_list_count_and_mark_read(app, client, district: District, sql, same_database):
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]
    # The new instruction's own notice (通知) is the first message; read it, then the reminders follow.
    assert [m["kind"] for m in client.get(d.url("inbox"), headers=d.h(d.liaison)).get_json()] == ["instruction.issued"]
    assert client.post(d.url("inbox", "read-all"), headers=d.h(d.liaison)).get_json() == {"marked": 1}
    for step in ("warning", "yellow"):
        make_due(sql, instruction_id, "acknowledge", step)
        sweep(app, d.tenant.id)
    inbox, count = d.url("inbox"), d.url("inbox", "unread-count")
    listed = client.get(inbox + "?unread_only=true", headers=d.h(d.liaison)).get_json()
    assert [m["kind"] for m in listed] == ["reminder.yellow", "reminder.warning"]
    assert client.get(count, headers=d.h(d.liaison)).get_json() == {"unread": 2}

    first = listed[1]["id"]
    unchanged = same_database()
    assert_error(client.post(d.url("inbox", first, "read"), headers=d.h(d.responder)), 404, "notification_not_found")
    unchanged()
    assert client.post(d.url("inbox", first, "read"), headers=d.h(d.liaison)).get_json()["read_at"] is not None
    assert client.get(count, headers=d.h(d.liaison)).get_json() == {"unread": 1}
    unread = client.get(inbox + "?unread_only=true", headers=d.h(d.liaison)).get_json()
    assert [m["kind"] for m in unread] == ["reminder.yellow"]
    assert client.post(d.url("inbox", "read-all"), headers=d.h(d.liaison)).get_json() == {"marked": 1}
    assert client.get(count, headers=d.h(d.liaison)).get_json() == {"unread": 0}
