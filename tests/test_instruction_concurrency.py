"""Two people move the same instruction at the same moment: exactly one wins, the other gets
409 or 412, and nothing is half-written (one timeline row, one audit event, one responder set)."""
from __future__ import annotations

import threading

from tests.factories import client_from
from tests.test_instruction_support import district, issue_one, make_incident  # noqa: F401


def _race(app, d, requests):
    """Run each (user, action, json, headers) at once from its own client; return the responses in order."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index, user, action, body, headers):
        test_client = client_from(app, f"10.99.0.{index + 1}")
        barrier.wait(timeout=10)
        results[index] = test_client.post(action, headers={**d.h(user), **headers}, json=body)

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not thread.is_alive() for thread in threads)
    return results


def test_acknowledge_against_return_exactly_one_wins(app, client, district, sql):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    responses = _race(app, d, [
        (d.liaison, d.action_url(iid, "acknowledge"), {"responder_ids": [d.responder.id]}, {"If-Match": '"1"'}),
        (d.unit_leader, d.action_url(iid, "return"), {"reason": "非本单位职责"}, {"If-Match": '"1"'}),
    ])
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 200 and codes[1] in (409, 412), [r.get_json() for r in responses]
    winner = next(r for r in responses if r.status_code == 200).get_json()
    state, version = sql("SELECT state, version FROM instructions WHERE id = :i", i=iid)[0]
    assert (state, version) == (winner["state"], 2)
    assert sql("SELECT count(*) FROM timeline_events WHERE instruction_id = :i", i=iid)[0][0] == 2
    assert sql("SELECT count(*) FROM audit_events WHERE target_type = 'instruction' AND target_id = :i",
               i=str(iid))[0][0] == 2
    responders = sql("SELECT count(*) FROM instruction_responders WHERE instruction_id = :i", i=iid)[0][0]
    assert responders == (1 if state == "acknowledged" else 0)


def test_two_acknowledges_without_versions_one_wins_the_other_is_illegal(app, client, district, sql):
    d = district
    iid = issue_one(client, d, make_incident(app, d.tenant))["id"]
    responses = _race(app, d, [
        (d.liaison, d.action_url(iid, "acknowledge"), {}, {}),
        (d.unit_leader, d.action_url(iid, "acknowledge"), {}, {}),
    ])
    assert sorted(r.status_code for r in responses) == [200, 409], [r.get_json() for r in responses]
    assert next(r for r in responses if r.status_code == 409).get_json()["error"] == "illegal_transition"
    assert sql("SELECT version FROM instructions WHERE id = :i", i=iid)[0][0] == 2


def test_two_units_resolving_the_last_two_instructions_at_once_resolve_the_incident(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    ids = []
    for unit_id, liaison in ((d.unit_id, d.liaison), (d.gas_unit_id, d.gas_liaison)):
        iid = issue_one(client, d, incident_id, unit_id=unit_id, needs_site_visit=False)["id"]
        assert client.post(d.action_url(iid, "acknowledge"), headers=d.h(liaison), json={}).status_code == 200
        ids.append(iid)
    responses = _race(app, d, [
        (d.liaison, d.action_url(ids[0], "resolve"), {"result_code": "10"}, {}),
        (d.gas_liaison, d.action_url(ids[1], "resolve"), {"result_code": "12"}, {}),
    ])
    assert [r.status_code for r in responses] == [200, 200], [r.get_json() for r in responses]
    # Each saw the other's instruction under the incident's lock: neither could miss being the last.
    assert sql("SELECT state FROM incidents WHERE id = :i", i=incident_id)[0][0] == "resolved"
