"""Domain events leave only after commit: a committed transition publishes its event once, a
rolled-back one publishes nothing."""
from __future__ import annotations

import pytest

from app.common import events
from tests.factories import assert_error
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


@pytest.fixture
def published():
    seen = []
    events.subscribe(events.ANY, seen.append)
    yield seen
    events.unsubscribe(events.ANY, seen.append)


def test_issue_and_acknowledge_publish_after_commit(app, client, district, published, sql):
    d = district
    incident_id = make_incident(app, d.tenant, severity="major")
    seen_committed = []

    def check_committed(event):  # the subscriber can already read the row in another connection
        seen_committed.append(sql("SELECT state FROM instructions WHERE id = :i", i=event.instruction_id)[0][0])

    events.subscribe("InstructionAcknowledged", check_committed)
    try:
        iid = issue_one(client, d, incident_id)["id"]
        client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison), json={})
    finally:
        events.unsubscribe("InstructionAcknowledged", check_committed)
    assert [type(e).__name__ for e in published] == ["InstructionIssued", "MajorIncidentInstructed",
                                                    "InstructionAcknowledged"]
    ack = published[-1]
    assert (ack.instruction_id, ack.incident_id, ack.unit_id, ack.version, ack.actor_user_id) == (
        iid, incident_id, d.unit_id, 2, d.liaison.id)
    assert seen_committed == ["acknowledged"]


def test_a_rolled_back_transition_publishes_nothing(app, client, district, published, sql):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    published.clear()
    # The machine applies the acknowledge, then naming a stranger fails: the whole transaction rolls back.
    assert_error(client.post(d.action_url(iid, "acknowledge"), headers=d.h(d.liaison),
                             json={"responder_ids": [d.gas_liaison.id]}), 422, "responder_not_in_unit")
    assert_error(client.post(d.action_url(iid, "set-out"), headers=d.h(d.liaison), json={}), 409)
    assert published == []
    assert sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0] == ("issued", 1)
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'instruction.acknowledge'")[0][0] == 0


def test_a_failing_issue_publishes_nothing(app, client, district, published):
    d = district
    incident_id = make_incident(app, d.tenant, route="police_first")
    issue_one(client, d, incident_id, unit_id=d.gas_unit_id)
    published.clear()
    assert_error(client.post(d.issue_url(incident_id), headers=d.h(d.desk), json={"instructions": [
        {"unit_id": d.unit_id}, {"unit_id": d.gas_unit_id}]}), 409)
    assert published == []


def test_a_failing_subscriber_neither_undoes_the_work_nor_stops_the_others(app, client, district, published, sql):
    d = district

    def broken(_event):
        raise RuntimeError("subscriber down")

    events.subscribe("InstructionIssued", broken)
    try:
        instruction = issue_one(client, d, make_incident(app, d.tenant))
    finally:
        events.unsubscribe("InstructionIssued", broken)
    assert [type(e).__name__ for e in published] == ["InstructionIssued"]
    assert sql("SELECT state FROM instructions WHERE id = :i", i=instruction["id"])[0][0] == "issued"
