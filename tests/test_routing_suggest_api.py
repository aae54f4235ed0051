"""POST /api/v1/t/<tenant_code>/routing/suggest: who may ask, what comes back, and whose catalogue."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select, update

from bench.routing import fixture_catalogue
from tests.factories import assert_error, auth

PATH = "/api/v1/t/{code}/routing/suggest"


@pytest.fixture
def district(app, factory):
    """Tenant A (no template) with the fixture catalogue; returns (tenant, unit ids by short name)."""
    from app.blueprints.routing import service
    from app.extensions import db
    from app.tenants.context import tenant_scope

    service.clear_cache()
    tenant = factory.tenant("620602", "凉州区", template=None)
    with app.app_context(), tenant_scope([tenant.id]):
        unit_ids = fixture_catalogue.install(tenant.id)
        db.session.commit()
    return tenant, unit_ids


def ask(client, user, text: str, code: str = "620602", **extra):
    return client.post(PATH.format(code=code), headers=auth(client, user), json={"text": text, **extra})


def test_the_desk_gets_ranked_categories_with_units_route_severity_and_why(client, factory, district):
    tenant, units = district
    desk = factory.user(tenant, "dispatcher")
    response = ask(client, desk, "我家楼道里然气味很大，好像漏了")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    top = body["suggestions"][0]
    assert top["rank"] == 1 and top["score"] > 0
    assert top["category"]["name"] == "燃气泄漏" and top["category"]["parent"]["name"] == "城市设施"
    assert top["lead_unit"] == {"id": units["天然气"], "name": "区天然气公司", "short_name": "天然气"}
    assert {u["short_name"] for u in top["assisting_units"]} == {"建设", "公安"}
    assert (top["route"], top["severity"]) == ("police_first", "major")
    assert any(m["term"] == "燃气" and m["source"] == "keyword" and m["via"] == "然气" for m in top["matched"])
    assert body["corrections"] == [{"written": "然气", "read_as": "燃气"}]
    assert body["fallback"] is None and body["model_version"] is None
    scores = [s["score"] for s in body["suggestions"]]
    assert scores == sorted(scores, reverse=True)


def test_several_problems_are_all_on_the_list(client, factory, district):
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    body = ask(client, desk, "楼下有人打架，还有井盖被偷了", limit=2).get_json()
    assert {s["category"]["name"] for s in body["suggestions"]} == {"打架斗殴", "井盖缺失"}
    assert len(body["problems"]) == 2


def test_no_keyword_falls_back_gracefully(client, factory, district):
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    body = ask(client, desk, "我家老人出门三个小时没回来了").get_json()
    # The lexicon reads it as a person gone missing; the text model (whose labelled calls mostly give a
    # missing elderly person to the police) may put a police category above it, but not off the list.
    assert "走失人员" in [s["category"]["name"] for s in body["suggestions"][:3]]
    # No catalogue word at all: at most the text model's guess, and the answer says that is all it is.
    nothing = ask(client, desk, "今天天气不错").get_json()
    assert nothing["fallback"] in ("none", "model")
    assert all(m["source"] == "model" for s in nothing["suggestions"] for m in s["matched"])


def test_limit_caps_the_list(client, factory, district):
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    body = ask(client, desk, "停电了，电线杆倒了，电梯困人，燃气泄漏，井盖没了，有人打架", limit=3).get_json()
    assert len(body["suggestions"]) == 3


@pytest.mark.parametrize("role", ["dispatcher", "tenant_admin", "leader"])
def test_desk_side_roles_may_ask(client, factory, district, role):
    tenant, _ = district
    assert ask(client, factory.user(tenant, role), "停电了").status_code == 200


@pytest.mark.parametrize("role", ["unit_liaison", "unit_leader", "responder"])
def test_unit_roles_may_not(client, factory, district, role):
    tenant, units = district
    user = factory.user(tenant, role, unit_id=units["建设"])
    assert_error(ask(client, user, "停电了"), 403, "forbidden")


@pytest.mark.parametrize("body, field", [
    ({"text": ""}, "text"), ({"text": "   "}, "text"), ({"text": "x" * 2001}, "text"),
    ({"text": "停电", "limit": 0}, "limit"), ({"text": "停电", "limit": 21}, "limit"),
    ({"text": "停电", "limit": 2.5}, "limit"), ({}, "text"),
])
def test_bad_bodies_are_422(client, factory, district, body, field):
    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    response = client.post(PATH.format(code="620602"), headers=auth(client, desk), json=body)
    assert field in assert_error(response, 422)["errors"]


def test_another_tenants_categories_are_never_suggested(app, client, factory, district):
    from app.blueprints.catalogue.models import Category
    from app.extensions import db
    from app.tenants.context import tenant_scope

    tenant_a, _ = district
    tenant_b = factory.tenant("110105", "朝阳区", template=None)
    with app.app_context(), tenant_scope([tenant_b.id]):
        fixture_catalogue.install(tenant_b.id)
        # Only B teaches its catalogue this word.
        db.session.execute(update(Category).where(Category.code == "FXE01")
                           .values(keywords=["共享单车", "占道"]))
        db.session.commit()
        b_ids = set(db.session.execute(select(Category.id)).scalars())
    desk_a, desk_b = factory.user(tenant_a, "dispatcher"), factory.user(tenant_b, "dispatcher")
    text = "共享单车把路口全堵了，还有人在摆摊"
    a_body = ask(client, desk_a, text, limit=20).get_json()
    b_body = ask(client, desk_b, text, code="110105", limit=20).get_json()
    assert b_body["suggestions"][0]["category"]["id"] in b_ids
    assert not {s["category"]["id"] for s in a_body["suggestions"]} & b_ids
    assert not any(m["term"] == "共享单车" for s in a_body["suggestions"] for m in s["matched"])
    # A's dispatcher cannot ask in B's name either: B does not exist for them.
    assert_error(ask(client, desk_a, text, code="110105"), 404, "tenant_not_found")


def test_a_catalogue_change_is_seen_by_the_next_request(app, client, factory, district):
    from app.blueprints.catalogue.models import Category
    from app.extensions import db
    from app.tenants.context import tenant_scope

    tenant, _ = district
    desk = factory.user(tenant, "dispatcher")
    before = ask(client, desk, "小区里的充电桩坏了").get_json()
    assert not any(m["term"] == "充电桩" for s in before["suggestions"] for m in s["matched"])
    with app.app_context(), tenant_scope([tenant.id]):
        category = db.session.execute(select(Category).where(Category.code == "FXD03")).scalar_one()
        category.keywords = [*category.keywords, "充电桩"]
        db.session.commit()
    body = ask(client, desk, "小区里的充电桩坏了").get_json()
    assert body["suggestions"][0]["category"]["name"] == "停电"
    assert any(m["term"] == "充电桩" and m["source"] == "keyword" for m in body["suggestions"][0]["matched"])


def test_a_warm_index_costs_one_query_per_suggestion(app, factory, district):
    from app.blueprints.routing import service
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    tenant, _ = district
    with app.app_context(), tenant_scope([tenant.id]):
        row = db.session.get(Tenant, tenant.id)
        service.suggest(tenant=row, text="停电了")  # builds the index
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            service.suggest(tenant=row, text="停电了")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        # The transaction's tenant settings, then the one signature query.
        assert len([s for s in statements if "set_config" not in s]) == 1, statements
        db.session.rollback()
