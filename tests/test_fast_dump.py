"""`FastDump` (app/common/dumping.py) answers exactly what marshmallow's own `dump` answers.

The same reads are made twice, once with the compiled dumpers and once with marshmallow's code path,
on rows covering nulls and values, nested instructions with responders, run-out clocks, a pending
extension, masked and unmasked callers, and times in the tenant's zone."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401


@pytest.fixture
def busy(app, client, district, sql):
    d = district
    quiet = make_incident(app, d.tenant)
    issue_one(client, d, quiet)
    work = issue_one(client, d, make_incident(app, d.tenant, severity="major"))
    act(client, d, work["id"], "acknowledge", d.liaison, responder_ids=[d.responder.id])
    act(client, d, work["id"], "arrive", d.liaison, text="到了", position={"latitude": 37.9, "longitude": 102.6})
    later = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    act(client, d, work["id"], "request-extension", d.liaison, reason="材料未到", resolve_by=later)
    sql("UPDATE instructions SET acknowledge_by = now() - interval '1 hour' WHERE incident_id = :i", i=quiet)
    response = client.post(d.url("incidents"), json={"source": "phone_110", "description": "楼道漏水",
                                                     "caller_name": "王先生", "caller_phone": "13912345678",
                                                     "latitude": 37.93, "longitude": 102.64},
                           headers=d.h(d.desk))
    assert response.status_code == 201
    return d


def _reads(client, d: District) -> dict:
    paths = {"board": (d.url("board"), d.desk), "board_overdue": (d.url("board") + "?overdue=true", d.desk),
             "inbox": (d.url("units", d.unit_id, "instructions"), d.liaison),
             "incidents": (d.url("incidents"), d.desk), "incidents_as_leader": (d.url("incidents"), d.city_leader)}
    out = {}
    for name, (path, user) in paths.items():
        response = client.get(path, headers=d.h(user))
        assert response.status_code == 200, response.get_json()
        out[name] = (response.get_data(as_text=True), response.headers.get("X-Pagination"))
    return out


def test_fast_and_marshmallow_dumps_are_byte_for_byte_the_same(client, busy, monkeypatch):
    from app.common.dumping import FastDump

    fast = _reads(client, busy)
    monkeypatch.setattr(FastDump, "_fast", lambda self: False)  # marshmallow's own path
    slow = _reads(client, busy)

    assert fast == slow
    assert '"responder_ids":[' in fast["inbox"][0] and "+08:00" in fast["board"][0]
    assert '"has_pending_extension":true' in fast["board"][0] and '"acknowledge"' in fast["board_overdue"][0]
    assert "139****5678" in fast["incidents_as_leader"][0] and "13912345678" in fast["incidents"][0]


def test_lists_carry_the_named_responders_in_one_query_per_page(app, client, busy, sql):
    """The inbox and the board name each instruction's responders (in id order) from a column of the
    instructions' own query: no second query for the responders."""
    from sqlalchemy import event

    from app.extensions import db

    d = busy
    [work] = sql("SELECT id FROM instructions WHERE state = 'on_scene' AND tenant_id = :t", t=d.tenant.id)[0:1]
    sql("INSERT INTO instruction_responders (tenant_id, instruction_id, user_id, named_at) "
        "VALUES (:t, :i, :u, now())", t=d.tenant.id, i=work[0], u=d.liaison.id)
    expected = sorted([d.responder.id, d.liaison.id])
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    try:
        inbox = client.get(d.url("units", d.unit_id, "instructions"), headers=d.h(d.liaison)).get_json()
        board = client.get(d.url("board"), headers=d.h(d.desk)).get_json()
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count)

    assert {row["id"]: row["responder_ids"] for row in inbox}[work[0]] == expected
    on_board = {item["instruction"]["id"]: item["instruction"]["responder_ids"]
                for row in board for item in row["instructions"]}
    assert on_board[work[0]] == expected and [] in on_board.values()
    assert not [s for s in statements if "FROM instruction_responders" in s.split("WHERE")[0]
                and s.lstrip().startswith("SELECT instruction_responders")]
