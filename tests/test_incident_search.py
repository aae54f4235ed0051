"""Incident search: Chinese substrings of description or address through the bigram GIN index; filters."""
from __future__ import annotations

from sqlalchemy import text

from tests.test_incident_support import desk, local, record  # noqa: F401


def _descriptions(client, desk, **params) -> list[str]:
    response = client.get(desk.url(), query_string=params, headers=desk.headers["dispatcher"])
    assert response.status_code == 200, response.get_json()
    return [incident["description"] for incident in response.get_json()]


def test_a_chinese_substring_finds_description_or_address(client, desk):
    record(client, desk, description="幸福小区燃气泄漏", address="南关西路")
    record(client, desk, description="井盖丢失", address="幸福路口")
    record(client, desk, description="电梯困人", address="北关中路")

    assert _descriptions(client, desk, q="燃气泄漏") == ["幸福小区燃气泄漏"]
    assert sorted(_descriptions(client, desk, q="幸福")) == ["井盖丢失", "幸福小区燃气泄漏"]
    assert _descriptions(client, desk, q="北关") == ["电梯困人"]
    assert _descriptions(client, desk, q="困") == ["电梯困人"]


def test_all_the_grams_present_is_not_enough_the_substring_must_be(client, desk):
    # 燃气 and 泄漏 both occur, but not 燃气泄漏.
    record(client, desk, description="泄漏的不是燃气，是水管", address="南关西路")

    assert _descriptions(client, desk, q="燃气泄漏") == []
    assert _descriptions(client, desk, q="燃气") == ["泄漏的不是燃气，是水管"]


def test_a_corrected_description_is_found_by_its_new_words(client, desk):
    incident = record(client, desk, description="有异味")["incident"]

    response = client.patch(desk.url(incident["id"]), json={"description": "下水道溢出有异味"},
                            headers=desk.headers["dispatcher"])

    assert response.status_code == 200, response.get_json()
    assert _descriptions(client, desk, q="下水道") == ["下水道溢出有异味"]


def test_the_search_uses_the_gin_index(app, client, desk, owner_engine):
    from app.blueprints.incidents.service import search_statement
    from app.extensions import db

    record(client, desk, description="幸福小区燃气泄漏")
    with app.app_context():
        compiled = search_statement("燃气泄漏").compile(db.engine, compile_kwargs={"literal_binds": True})
    with owner_engine.begin() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in connection.execute(text(f"EXPLAIN {compiled}")))
    assert "@@" in plan and "ix_incidents_search_vector" in plan, plan


def test_filters_by_state_severity_source_and_time(client, desk, sql):
    record(client, desk, description="一", severity="major", received_at=local("2026-03-01 08:00").isoformat())
    second = record(client, desk, description="二", source="sms", received_at=local("2026-03-02 08:00").isoformat())
    record(client, desk, description="三", received_at=local("2026-03-03 08:00").isoformat())
    sql("UPDATE incidents SET state = 'cancelled' WHERE id = :id", id=second["incident"]["id"])

    assert _descriptions(client, desk) == ["三", "二", "一"]
    assert _descriptions(client, desk, sort="received_at") == ["一", "二", "三"]
    assert _descriptions(client, desk, severity="major") == ["一"]
    assert _descriptions(client, desk, state="open") == ["三", "一"]
    assert _descriptions(client, desk, source="sms") == ["二"]
    assert _descriptions(client, desk, received_since=local("2026-03-02 00:00").isoformat(),
                    received_until=local("2026-03-03 00:00").isoformat()) == ["二"]


def test_lists_are_paginated(client, desk):
    for n in range(3):
        record(client, desk, description=f"第{n}件")

    response = client.get(desk.url(), query_string={"page": 2, "page_size": 2}, headers=desk.headers["dispatcher"])

    assert len(response.get_json()) == 1
    assert '"total": 3' in response.headers["X-Pagination"]
