"""The hot list queries walk their indexes as the app role, under row-level security, the way they run in
production: a page of the newest incidents or of a unit's inbox needs no sort of the whole table, and the
Chinese substring search narrows through its GIN index. (The database owner bypasses RLS, so an EXPLAIN
run as the owner proves nothing about this: each plan here is taken on the app's own session.)"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from tests.test_incident_support import Desk, desk, record  # noqa: F401  (fixture)
from tests.test_instruction_support import District, district, issue_one  # noqa: F401  (fixture)


class _Pagination:
    page, page_size, first_item, item_count = 1, 10, 0, None


@contextmanager
def plans_of_app_queries(app, tenant_id: int, *, settings: tuple[str, ...] = ("enable_seqscan",)):
    """Run service calls as one tenant with sequential scans off (tables are tiny in tests), and return the
    EXPLAIN of every statement they sent, taken on the same (app role, RLS) connection."""
    from app.extensions import db
    from app.tenants.context import tenant_scope

    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append((statement, parameters))

    plans: list[str] = []
    with app.app_context(), tenant_scope([tenant_id]):
        for setting in settings:
            db.session.execute(text(f"SET LOCAL {setting} = off"))
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            yield plans
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        connection = db.session.connection()
        for statement, parameters in sent:
            plan = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
            plans.append("\n".join(row[0] for row in plan))
        db.session.rollback()


def _page_plan(plans: list[str]) -> str:
    return next(plan for plan in plans if "Limit" in plan)


def _three_issued_incidents_and_the_desk(app, client, d):
    """Three incidents, each with an instruction to the district's unit; the desk user, detached, to pass
    to a service as its actor."""
    for _ in range(3):
        response = client.post(d.url("incidents"), json={"source": "phone_110", "description": "漏水"},
                               headers=d.h(d.desk))
        issue_one(client, d, response.get_json()["incident"]["id"])
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([d.tenant.id]):
        desk_user = db.session.get(User, d.desk.id)
        db.session.expunge(desk_user)
    return desk_user


def test_a_page_of_the_newest_incidents_walks_the_received_at_index(app, client, desk):
    for description in ("一", "二", "三"):
        record(client, desk, description=description)
    from app.blueprints.incidents import service

    with plans_of_app_queries(app, desk.tenant.id) as plans:
        service.list_incidents(pagination=_Pagination())
    page = _page_plan(plans)
    assert "ix_incidents_tenant_id_received_at_id" in page and "Sort" not in page, page


def test_a_page_of_a_units_inbox_walks_an_index_in_id_order(app, client, district):
    d = district
    desk_user = _three_issued_incidents_and_the_desk(app, client, d)
    from app.blueprints.instructions import views

    with plans_of_app_queries(app, d.tenant.id) as plans:
        views.unit_inbox(unit_id=d.unit_id, actor=desk_user, pagination=_Pagination())
    page = _page_plan(plans)
    # Which index is the planner's call on these tiny tables; that the page is read in order is not.
    assert "Index" in page and "Sort" not in page, page


@pytest.mark.parametrize("q", ["燃气泄漏", "南关"])
def test_the_search_uses_its_gin_index_under_row_level_security(app, client, desk, sql, q):
    record(client, desk, description="幸福小区燃气泄漏", address="南关西路")
    # Enough other calls that walking the tenant's rows costs more than the GIN index (as it does in use).
    sql("""INSERT INTO incidents (tenant_id, number, source, received_at, address, area_type, description, severity,
                                  route, state, version, search_vector, created_at, updated_at)
           SELECT :t, 'BULK-' || g, 'sms', now() - g * interval '1 minute', '西关街', 'urban', '停水第' || g || '天',
                  'general', 'direct', 'closed', 1, to_tsvector('simple', '停水 停水第' || g), now(), now()
             FROM generate_series(1, 5000) g""", t=desk.tenant.id)
    sql("ANALYZE incidents")
    from app.blueprints.incidents import service

    with plans_of_app_queries(app, desk.tenant.id, settings=()) as plans:
        found = [incident.description for incident in service.list_incidents(pagination=_Pagination(), q=q)]
    assert found == ["幸福小区燃气泄漏"]
    on_incidents = [plan for plan in plans if " on incidents" in plan]
    assert len(on_incidents) == 1, plans  # the page, its bounded count riding along in the same statement
    assert all("ix_incidents_search_vector" in plan for plan in on_incidents), "\n\n".join(on_incidents)


@pytest.mark.parametrize("overdue", [True, None])
def test_the_boards_overdue_set_is_read_once_from_the_live_instructions_index(app, client, district, overdue):
    """Overdue first (and the overdue filter) take the set of late incidents from `ix_instructions_live` in
    one scan, not one probe of every incident in hand: the board's cost stays flat as work piles up."""
    d = district
    desk_user = _three_issued_incidents_and_the_desk(app, client, d)
    from app.blueprints.board import service

    with plans_of_app_queries(app, d.tenant.id) as plans:
        service.board(actor=desk_user, pagination=_Pagination(), overdue=overdue)
    page = _page_plan(plans)
    assert "ix_instructions_live" in page, page
    assert "ix_instructions_tenant_id_incident_id" not in page, page  # no per-incident probe
