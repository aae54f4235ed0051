"""Big lists count at most a bounded number of rows: X-Pagination's total is then a lower bound.

Small results page exactly as before (tests/test_user_management.py pins the header of those)."""
from __future__ import annotations

import json

import pytest

from tests.test_incident_support import desk, record  # noqa: F401


@pytest.fixture
def small_limit(monkeypatch):
    from app.blueprints.incidents import service

    monkeypatch.setattr(service, "COUNT_LIMIT", 3)


def _page(client, desk, **params):
    response = client.get(desk.url(), query_string=params, headers=desk.headers["dispatcher"])
    assert response.status_code == 200, response.get_json()
    return [i["description"] for i in response.get_json()], json.loads(response.headers["X-Pagination"])


def test_a_count_that_reaches_the_limit_is_a_lower_bound_and_next_page_stays_exact(client, desk, small_limit):
    for n in range(6):
        record(client, desk, description=f"第{n}件")

    rows, first = _page(client, desk, page_size=2)
    assert rows == ["第5件", "第4件"]
    # Counted: at most max(3, 0 + 2) + 1 = 4 rows.
    assert first == {"total": 4, "total_is_lower_bound": True, "total_pages": 2, "first_page": 1,
                     "last_page": 2, "page": 1, "next_page": 2}

    rows, second = _page(client, desk, page=2, page_size=2)
    assert rows == ["第3件", "第2件"]
    assert second["total_is_lower_bound"] is True and second["next_page"] == 3  # at least 5 rows: one more page

    rows, last = _page(client, desk, page=3, page_size=2)
    assert rows == ["第1件", "第0件"]
    # Counting up to max(3, 4 + 2) + 1 = 7 found all 6: exact again, and the last page says so.
    assert last == {"total": 6, "total_pages": 3, "first_page": 1, "last_page": 3, "page": 3, "previous_page": 2}


def test_below_the_limit_the_header_is_exact_and_unchanged(client, desk):
    for n in range(3):
        record(client, desk, description=f"第{n}件")

    _, only = _page(client, desk, page_size=5)  # a page that is not full: the only page
    _, full = _page(client, desk, page_size=2)  # a full page: counted with it
    _, beyond = _page(client, desk, page=9, page_size=2)

    assert only == {"total": 3, "total_pages": 1, "first_page": 1, "last_page": 1, "page": 1}
    assert full == {"total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 1, "next_page": 2}
    assert beyond == {"total": 3, "total_pages": 2, "first_page": 1, "last_page": 2}


def test_a_first_page_and_its_bounded_count_are_one_statement(app, client, desk, small_limit):
    from sqlalchemy import event

    from app.extensions import db

    for n in range(6):
        record(client, desk, description=f"第{n}件")
    sent: list[str] = []

    def capture(_conn, _cursor, statement, *_args):
        if "FROM incidents" in statement:
            sent.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
    try:
        rows, first = _page(client, desk, page_size=2)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", capture)

    assert rows == ["第5件", "第4件"] and first["total"] == 4 and first["total_is_lower_bound"] is True
    assert len(sent) == 1 and "count(*)" in sent[0], sent
