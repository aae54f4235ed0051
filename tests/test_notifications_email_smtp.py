"""E-mail over SMTP, against a real SMTP server (aiosmtpd) on this machine: the unit's mailbox hears
the steps for the unit, the office's mailbox the steps for the office."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from tests.reminders_support import (District, district, issue_one, make_due, make_incident,  # noqa: F401
                                     put_endpoint, sweep, tuned)


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    try:
        yield port, mailbox
    finally:
        controller.stop()


def test_unit_and_office_mailboxes_get_their_steps(app, client, district: District, sql, smtp_server):
    port, mailbox = smtp_server
    d = district
    instruction_id = issue_one(client, d, make_incident(app, d.tenant))["id"]  # before the mailboxes: its
    put_endpoint(client, d, channel="email", unit_id=d.unit_id, target="jianshe@unit.example")  # own notice
    put_endpoint(client, d, channel="email", target="office@linkage.example")  # is not under test here
    with tuned(app, smtp_host="127.0.0.1", smtp_port=port):
        make_due(sql, instruction_id, "acknowledge", "yellow")
        sweep(app, d.tenant.id)
        assert [to for to, _ in mailbox.messages] == [["jianshe@unit.example"]]  # yellow: the unit only
        make_due(sql, instruction_id, "acknowledge", "red")
        sweep(app, d.tenant.id)

    assert sorted(to[0] for to, _ in mailbox.messages) == ["jianshe@unit.example", "jianshe@unit.example",
                                                          "office@linkage.example"]
    office = next(message for to, message in mailbox.messages if to == ["office@linkage.example"])
    assert office["Subject"].startswith("【督办】") and "overdue by 15 min" in office["Subject"]
    assert f"/instructions/{instruction_id}" in office.get_content()
    assert office["Message-ID"].endswith("@liandong>")
    assert sql("SELECT count(*) FROM notifications WHERE channel = 'email' AND state = 'sent'")[0][0] == 3
