"""The polled lists (desk board, unit inbox, my tasks) answered again from a validated cache
(app/common/read_cache.py): a repeat poll with nothing written since gets the same answer without rebuilding
it; anything the app commits shows on the very next read; a clock running out ends a board answer; nothing
is shared between users; refusals are always worked out afresh; without Redis every read is built; an
`If-None-Match` poll of an unchanged answer is 304.

"Served from the cache" is shown by a change made outside the app (as the table owner, which announces
nothing): a cached answer does not show it, a rebuilt one does."""
from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis

from app.common import read_cache
from app.common.models import utcnow
from tests.factories import assert_error
from tests.test_instruction_support import District, act, district, issue_one, make_incident  # noqa: F401  (fixture)


def _inbox(client, d: District, user, unit_id=None, **headers):
    return client.get(d.url("units", unit_id or d.unit_id, "instructions"), headers=d.h(user, **headers))


def _notes(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["note"] for item in response.get_json()]


def _board_row(client, d: District, incident_id: int) -> dict:
    response = client.get(d.url("board"), headers=d.h(d.desk))
    assert response.status_code == 200, response.get_json()
    return next(row for row in response.get_json() if row["incident"]["id"] == incident_id)


def _note_outside_the_app(sql, instruction_id: int, note: str) -> None:
    assert sql("UPDATE instructions SET note = :n WHERE id = :i", n=note, i=instruction_id) == 1


def _later(monkeypatch, seconds: float) -> None:
    """Move the clocks the cache and the board read forward."""
    moment = utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr("app.common.read_cache.utcnow", lambda: moment)
    monkeypatch.setattr("app.blueprints.board.service.utcnow", lambda: moment)


def test_a_repeat_poll_is_answered_from_the_cache_and_a_write_through_the_app_shows_at_once(app, client, district, sql):
    d = district
    work = issue_one(client, d, make_incident(app, d.tenant))
    first = _inbox(client, d, d.liaison)
    assert _notes(first) == ["速去"]

    _note_outside_the_app(sql, work["id"], "改过的备注")
    again = _inbox(client, d, d.liaison)
    assert _notes(again) == ["速去"]  # nothing announced: the cached answer, whole
    assert again.get_data() == first.get_data()
    assert again.headers["X-Pagination"] == first.headers["X-Pagination"]

    act(client, d, work["id"], "acknowledge", d.liaison, version=work["version"])
    after = _inbox(client, d, d.liaison).get_json()
    assert [(item["state"], item["note"]) for item in after] == [("acknowledged", "改过的备注")]


def test_the_desk_sees_a_units_action_on_its_next_board_poll(app, client, district):
    d = district
    incident_id = make_incident(app, d.tenant)
    work = issue_one(client, d, incident_id)
    assert [i["instruction"]["state"] for i in _board_row(client, d, incident_id)["instructions"]] == ["issued"]

    act(client, d, work["id"], "acknowledge", d.liaison, version=work["version"], responder_ids=[d.responder.id])
    row = _board_row(client, d, incident_id)
    assert [(i["instruction"]["state"], i["instruction"]["responder_ids"]) for i in row["instructions"]] == [
        ("acknowledged", [d.responder.id])]


def test_a_change_made_outside_the_app_shows_within_read_cache_seconds_or_at_once_when_invalidated(
        app, client, district, sql, monkeypatch):
    d = district
    work = issue_one(client, d, make_incident(app, d.tenant))
    assert _notes(_inbox(client, d, d.liaison)) == ["速去"]
    _note_outside_the_app(sql, work["id"], "十四秒后")

    _later(monkeypatch, 14)
    assert _notes(_inbox(client, d, d.liaison)) == ["速去"]
    _later(monkeypatch, 15)  # READ_CACHE_SECONDS, the default
    assert _notes(_inbox(client, d, d.liaison)) == ["十四秒后"]

    _note_outside_the_app(sql, work["id"], "立即")
    result = app.test_cli_runner().invoke(args=["read-cache", "invalidate"])  # what the operator runs
    assert result.exit_code == 0, result.output
    assert _notes(_inbox(client, d, d.liaison)) == ["立即"]


def _acknowledge_due_in_five_seconds(app, client, d: District, sql) -> tuple[int, dict]:
    """An incident with one instruction whose acknowledge clock runs out 5 s from now: (incident id, instruction)."""
    incident_id = make_incident(app, d.tenant)
    work = issue_one(client, d, incident_id)
    assert sql("UPDATE instructions SET acknowledge_by = now() + interval '5 seconds' WHERE id = :i",
               i=work["id"]) == 1
    return incident_id, work


def test_a_board_answer_ends_when_the_next_clock_runs_out(app, client, district, sql, monkeypatch):
    d = district
    incident_id, work = _acknowledge_due_in_five_seconds(app, client, d, sql)
    row = _board_row(client, d, incident_id)
    assert (row["is_overdue"], row["instructions"][0]["overdue"]) == (False, [])
    _note_outside_the_app(sql, work["id"], "看板")

    _later(monkeypatch, 3)  # before the clock: the cached answer
    assert _board_row(client, d, incident_id)["instructions"][0]["instruction"]["note"] == "速去"
    _later(monkeypatch, 6)  # after it, well within READ_CACHE_SECONDS: built again
    row = _board_row(client, d, incident_id)
    assert (row["is_overdue"], row["instructions"][0]["overdue"]) == (True, ["acknowledge"])
    assert row["instructions"][0]["instruction"]["note"] == "看板"


def test_an_empty_overdue_board_fills_when_a_clock_runs_out(app, client, district, sql, monkeypatch):
    d = district
    incident_id, _work = _acknowledge_due_in_five_seconds(app, client, d, sql)
    overdue = {"overdue": "true"}
    assert client.get(d.url("board"), query_string=overdue, headers=d.h(d.desk)).get_json() == []

    _later(monkeypatch, 6)
    late = client.get(d.url("board"), query_string=overdue, headers=d.h(d.desk)).get_json()
    assert [row["incident"]["id"] for row in late] == [incident_id]


def test_each_user_gets_their_own_answer(app, client, district):
    d = district
    named = issue_one(client, d, make_incident(app, d.tenant))
    act(client, d, named["id"], "acknowledge", d.liaison, version=named["version"], responder_ids=[d.responder.id])
    other = issue_one(client, d, make_incident(app, d.tenant))

    assert [item["id"] for item in _inbox(client, d, d.liaison).get_json()] == [other["id"], named["id"]]
    # The same path for a responder: only the instruction naming them, not the liaison's answer.
    assert [item["id"] for item in _inbox(client, d, d.responder).get_json()] == [named["id"]]
    assert [item["id"] for item in _inbox(client, d, d.liaison).get_json()] == [other["id"], named["id"]]


def test_refusals_are_worked_out_afresh_on_every_request(app, client, district):
    d = district
    issue_one(client, d, make_incident(app, d.tenant))
    assert _inbox(client, d, d.liaison).status_code == 200
    assert_error(_inbox(client, d, d.gas_liaison), 403, "not_your_unit")

    assert client.post("/api/v1/auth/logout", headers=d.h(d.liaison)).status_code == 204
    assert_error(_inbox(client, d, d.liaison), 401, "token_revoked")  # the cached answer is not served


def test_a_unit_move_the_stamps_missed_still_refuses_the_old_units_inbox(app, client, district, sql):
    """The gate reads the caller's user row before the cache reads the stamps: a move committed in between
    is not in the stamps the answer is filed under. Made here outside the app, which announces nothing."""
    d = district
    issue_one(client, d, make_incident(app, d.tenant))
    assert _inbox(client, d, d.liaison).status_code == 200
    assert sql("UPDATE users SET unit_id = :u WHERE id = :i", u=d.gas_unit_id, i=d.liaison.id) == 1
    assert_error(_inbox(client, d, d.liaison), 403, "not_your_unit")


def test_a_role_change_the_stamps_missed_still_masks_the_caller(app, client, district, sql):
    d = district
    incident_id = make_incident(app, d.tenant)
    assert sql("UPDATE incidents SET caller_name = '张三', caller_phone = '13812345678' WHERE id = :i",
               i=incident_id) == 1
    issue_one(client, d, incident_id)
    assert _board_row(client, d, incident_id)["incident"]["caller_phone"] == "13812345678"
    assert sql("UPDATE users SET roles = ARRAY['leader']::varchar[] WHERE id = :i", i=d.desk.id) == 1
    assert _board_row(client, d, incident_id)["incident"]["caller_phone"] == "138****5678"


def test_without_redis_every_read_is_built(app, client, district, sql, monkeypatch):
    d = district
    work = issue_one(client, d, make_incident(app, d.tenant))
    cache = app.extensions["liandong_read_cache"]
    monkeypatch.setattr(cache, "redis", Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5))
    assert _notes(_inbox(client, d, d.liaison)) == ["速去"]
    _note_outside_the_app(sql, work["id"], "无缓存")
    assert _notes(_inbox(client, d, d.liaison)) == ["无缓存"]


def test_a_poll_with_the_etag_of_an_unchanged_answer_is_304_without_a_body(app, client, district):
    d = district
    work = issue_one(client, d, make_incident(app, d.tenant))
    first = _inbox(client, d, d.liaison)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"  # no shared cache keeps one user's list

    unchanged = _inbox(client, d, d.liaison, **{"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.get_data()) == (304, b"")
    assert unchanged.headers["ETag"] == etag

    act(client, d, work["id"], "acknowledge", d.liaison, version=work["version"])
    changed = _inbox(client, d, d.liaison, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert [item["state"] for item in changed.get_json()] == ["acknowledged"]


# ------------------------------------------------------------------ the announcement of commits

def _stamps(redis_client, *keys) -> list:
    return redis_client.mget([f"liandong:read-stamp:{key}" for key in keys])


@pytest.fixture
def two_districts(factory):
    return factory.tenant(), factory.tenant("620603", "古浪县")


def test_a_commit_renews_the_stamp_of_the_tenants_it_wrote_and_nothing_else_does(app, two_districts, redis_client,
                                                                                  factory):
    from app.blueprints.units.models import Unit
    from app.extensions import db
    from app.tenants.context import tenant_scope

    mine, other = two_districts
    factory.user(mine, "dispatcher")
    read_cache.invalidate_everything(redis_client)
    with app.app_context():
        app.extensions["liandong_read_cache"].stamps(mine.id)
        app.extensions["liandong_read_cache"].stamps(other.id)
        before = _stamps(redis_client, mine.id, other.id, "all")

        with tenant_scope([mine.id]):
            db.session.execute(db.select(Unit).limit(1)).all()
            db.session.commit()
        assert _stamps(redis_client, mine.id, other.id, "all") == before  # a read announces nothing

        with tenant_scope([mine.id]):
            db.session.execute(db.update(Unit).where(Unit.short_name == "建设").values(duty_phone="0935-1234567"))
            db.session.rollback()
        assert _stamps(redis_client, mine.id, other.id, "all") == before  # nor does a write rolled back

        with tenant_scope([mine.id]):
            db.session.execute(db.update(Unit).where(Unit.short_name == "建设").values(duty_phone="0935-1234567"))
            db.session.commit()
        after = _stamps(redis_client, mine.id, other.id, "all")
        assert after[0] != before[0] and after[1:] == before[1:]

        with tenant_scope([mine.id]):
            db.session.execute(db.delete(Unit).where(Unit.short_name == "没有这个单位"))
            db.session.commit()
        assert _stamps(redis_client, mine.id, other.id, "all") == after  # a write that changed no row

        with tenant_scope(is_platform=True):
            db.session.execute(db.text("UPDATE users SET display_name = display_name "
                                       "WHERE id = (SELECT min(id) FROM users)"))
            db.session.commit()
        platform = _stamps(redis_client, mine.id, other.id, "all")
        assert platform[:2] == after[:2] and platform[2] != after[2]


def test_a_savepoint_announces_nothing_until_its_transaction_commits(app, two_districts, redis_client):
    from app.blueprints.units.models import Unit
    from app.extensions import db
    from app.tenants.context import tenant_scope

    mine, _other = two_districts
    with app.app_context():
        app.extensions["liandong_read_cache"].stamps(mine.id)
        before = _stamps(redis_client, mine.id)
        change = db.update(Unit).where(Unit.short_name == "建设").values(duty_phone="0935-7654321")
        with tenant_scope([mine.id]):
            with db.session.begin_nested():
                db.session.execute(change)
            assert _stamps(redis_client, mine.id) == before  # released, not committed
            db.session.commit()
        committed = _stamps(redis_client, mine.id)
        assert committed != before

        with tenant_scope([mine.id]):
            db.session.execute(change)
            savepoint = db.session.begin_nested()
            db.session.execute(change)
            savepoint.rollback()
            db.session.commit()
        assert _stamps(redis_client, mine.id) != committed  # the outer write still counts
