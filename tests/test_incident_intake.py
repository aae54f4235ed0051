"""Intake (接警): the desk records a call; it is numbered, stored, audited; others may not record."""
from __future__ import annotations

from tests.factories import assert_error
from tests.test_incident_support import call, category_id, desk, record  # noqa: F401


def test_the_desk_records_a_call_numbered_for_the_local_day(client, desk, sql):
    body = record(client, desk)

    incident = body["incident"]
    assert incident["number"].startswith("620602-") and incident["number"].endswith("-0001")
    assert (incident["state"], incident["severity"], incident["route"], incident["version"]) == (
        "open", "general", "direct", 1)
    assert (incident["caller_phone"], incident["is_caller_masked"]) == ("13812345678", False)
    assert (incident["latitude"], incident["longitude"]) == (37.928, 102.641)
    assert "suggestions" not in body and "duplicates" not in body
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'incident.received' "
               "AND target_id = :id", id=str(incident["id"]))[0][0] == 1


def test_a_category_given_at_intake_sets_defaults_and_teaches_routing(app, client, desk, sql):
    gas = category_id(app, desk.tenant, "燃气泄漏")

    incident = record(client, desk, category_id=gas)["incident"]

    assert incident["category_id"] == gas
    route, severity = sql("SELECT route, severity FROM categories WHERE id = :id", id=gas)[0]
    assert (incident["route"], incident["severity"]) == (route, severity)
    assert sql("SELECT category_id, source, source_ref FROM routing_examples")[0] == (
        gas, "incident", incident["number"])


def test_the_desk_may_override_the_category_defaults(app, client, desk):
    gas = category_id(app, desk.tenant, "燃气泄漏")

    incident = record(client, desk, category_id=gas, severity="major", route="police")["incident"]

    assert (incident["severity"], incident["route"]) == ("major", "police")


def test_only_the_desk_records_calls(client, desk, sql):
    for role in ("admin", "leader", "responder"):
        response = client.post(desk.url(), json=call(), headers=desk.headers[role])
        assert_error(response, 403, "forbidden")
    assert sql("SELECT count(*) FROM incidents")[0][0] == 0
