"""Learning from what the desk confirmed: examples, the training job through real RQ, and what never feeds it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import Unprocessable
from bench.routing import fixture_catalogue
from tests.factories import auth
from worker.queues import DEFAULT, queue_for

TAUGHT = ["小区门口共享单车堆成山，人都过不去", "共享单车乱停把盲道占了", "一堆共享单车倒在人行道上"]
ASKED = "共享单车把路口全堵了"


@pytest.fixture
def district(app, factory):
    from app.blueprints.routing import service
    from app.extensions import db
    from app.tenants.context import tenant_scope

    service.clear_cache()
    tenant = factory.tenant("620602", "凉州区", template=None)
    with app.app_context(), tenant_scope([tenant.id]):
        fixture_catalogue.install(tenant.id)
        db.session.commit()
    return tenant


def category_id(app, tenant, code: str) -> int:
    from app.blueprints.catalogue.models import Category
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        return db.session.execute(select(Category.id).where(Category.code == code)).scalar_one()


def confirm(app, tenant, texts, category: int, *, ref_prefix: str = "620602-20261129-"):
    """As the incidents domain will: inside its unit of work, which commits, then enqueues training."""
    from app.blueprints.routing import service
    from app.database import unit_of_work
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([tenant.id]):
        with unit_of_work() as uow:
            for n, text in enumerate(texts, start=1):
                service.record_confirmed_choice(tenant_id=tenant.id, text=text, category_id=category,
                                                source="incident", source_ref=f"{ref_prefix}{n:04d}", uow=uow)


def run_worker(redis_client) -> None:
    SimpleWorker([Queue(DEFAULT, connection=redis_client)], connection=redis_client).work(burst=True)


def suggest(client, factory, tenant, text=ASKED, code="620602") -> dict:
    desk = factory.user(tenant, "dispatcher")
    response = client.post(f"/api/v1/t/{code}/routing/suggest", headers=auth(client, desk), json={"text": text})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_confirmed_calls_change_the_ranking_once_the_training_job_has_run(app, client, factory, sql, district,
                                                                          redis_client):
    street = category_id(app, district, "FXE01")  # 占道经营
    before = suggest(client, factory, district)
    assert [s["category"]["id"] for s in before["suggestions"][:1]] != [street]

    confirm(app, district, TAUGHT, street)
    queued = Queue(DEFAULT, connection=redis_client).jobs
    assert [job.func_name for job in queued] == ["app.blueprints.routing.jobs.train_routing_model"] * 3
    # Confirmed but not yet trained: nothing changes until the job has run.
    assert suggest(client, factory, district)["model_version"] is None

    run_worker(redis_client)
    results = [job.return_value() for job in queued]
    assert results[0] == {"tenant_id": district.id, "status": "trained", "version": 1, "examples": 3,
                          "terms": results[0]["terms"]}
    assert [r["status"] for r in results[1:]] == ["unchanged", "unchanged"]  # duplicates did nothing
    assert sql("SELECT version, example_count FROM routing_models") == [(1, 3)]

    after = suggest(client, factory, district)
    assert after["model_version"] == 1
    top = after["suggestions"][0]
    assert top["category"]["id"] == street
    assert any(m["source"] == "learned" and m["term"] in ("共享", "单车") for m in top["matched"])


def test_a_rerun_over_changed_examples_trains_a_new_version_and_keeps_few(app, sql, district, redis_client):
    from app.blueprints.routing.jobs import train_routing_model

    street = category_id(app, district, "FXE01")
    for round_ in range(5):
        confirm(app, district, [f"{text}{round_}" for text in TAUGHT], street, ref_prefix=f"r{round_}-")
        run_worker(redis_client)
    assert sql("SELECT version FROM routing_models ORDER BY version") == [(3,), (4,), (5,)]
    job = queue_for(train_routing_model, redis_client).enqueue(train_routing_model, district.id)
    run_worker(redis_client)
    assert job.return_value()["status"] == "unchanged"
    (trained_at, checked_at), = sql("SELECT trained_at, checked_at FROM routing_models WHERE version = 5")
    assert checked_at > trained_at  # the duplicate run recorded itself


def test_reconfirming_an_incident_replaces_its_example(app, sql, district):
    confirm(app, district, ["井盖没了"], category_id(app, district, "FXD06"))
    confirm(app, district, ["井盖没了"], category_id(app, district, "FXD07"))
    assert sql("SELECT text, category_id, source, source_ref FROM routing_examples") == [
        ("井盖没了", category_id(app, district, "FXD07"), "incident", "620602-20261129-0001")]


def test_only_a_level2_category_of_the_tenant_can_be_confirmed(app, factory, sql, district):
    from app.blueprints.catalogue.models import Category
    from app.blueprints.routing import service
    from app.extensions import db
    from app.tenants.context import tenant_scope

    other = factory.tenant("110105", "朝阳区", template=None)
    with app.app_context(), tenant_scope([other.id]):
        fixture_catalogue.install(other.id)
        db.session.commit()
    foreign = category_id(app, other, "FXE01")
    with app.app_context(), tenant_scope([district.id]):
        level1 = db.session.execute(select(Category.id).where(Category.parent_id.is_(None))).scalars().first()
        for bad in (level1, foreign, 987654321):
            with pytest.raises(Unprocessable):
                service.record_confirmed_choice(tenant_id=district.id, text="x", category_id=bad)
        db.session.rollback()
    assert sql("SELECT count(*) FROM routing_examples")[0][0] == 0


def test_a_confirmation_rolled_back_leaves_no_example_and_enqueues_nothing(app, sql, district, redis_client):
    from app.blueprints.routing import service
    from app.database import unit_of_work
    from app.tenants.context import tenant_scope

    street = category_id(app, district, "FXE01")
    with app.app_context(), tenant_scope([district.id]):
        with pytest.raises(RuntimeError):
            with unit_of_work() as uow:
                service.record_confirmed_choice(tenant_id=district.id, text="共享单车", category_id=street, uow=uow)
                raise RuntimeError("the incident's own transition failed")
    assert sql("SELECT count(*) FROM routing_examples")[0][0] == 0
    assert Queue(DEFAULT, connection=redis_client).count == 0


def test_the_periodic_run_trains_each_tenant_on_its_own_examples_only(app, client, factory, sql, district,
                                                                       redis_client):
    from app.blueprints.routing.jobs import train_all_routing_models

    other = factory.tenant("110105", "朝阳区", template=None)
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope([other.id]):
        fixture_catalogue.install(other.id)
        db.session.commit()
    confirm(app, other, TAUGHT, category_id(app, other, "FXE01"))
    Queue(DEFAULT, connection=redis_client).empty()
    job = queue_for(train_all_routing_models, redis_client).enqueue(train_all_routing_models)
    run_worker(redis_client)
    by_tenant = {s["tenant_id"]: s["status"] for s in job.return_value()}
    assert by_tenant == {district.id: "nothing_to_learn", other.id: "trained"}
    assert sql("SELECT tenant_id FROM routing_models") == [(other.id,)]
    assert suggest(client, factory, district)["model_version"] is None
    b_top = suggest(client, factory, other, code="110105")["suggestions"][0]
    assert b_top["category"]["id"] == category_id(app, other, "FXE01")


# -- the labelled accuracy set is measured, never learned from

BENCH = Path(__file__).resolve().parents[1] / "bench" / "routing"


def test_no_bench_code_can_write_examples_or_train():
    forbidden = re.compile(r"record_confirmed_choice|RoutingExample\(|routing_examples|schedule_training|"
                           r"service\.train|train_routing_model|train_all_routing_models|learning\.train")
    offenders = [f"{path.name}: {match.group(0)}" for path in BENCH.glob("*.py")
                 for match in forbidden.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_measuring_the_labelled_set_learns_nothing(app, sql, district):
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant
    from bench.routing import accuracy

    calls, aliases = accuracy.load()
    assert len(calls) >= 150
    with app.app_context(), tenant_scope([district.id]):
        outcomes = accuracy.evaluate(tenant=db.session.get(Tenant, district.id), calls=calls[:40], aliases=aliases)
        db.session.commit()
    assert len(outcomes) == 40
    assert sql("SELECT count(*) FROM routing_examples")[0][0] == 0
    assert sql("SELECT count(*) FROM routing_models")[0][0] == 0


def test_examples_only_come_from_the_desk_or_the_office(sql, district, app):
    street = category_id(app, district, "FXE01")
    with pytest.raises(IntegrityError):
        sql("INSERT INTO routing_examples (tenant_id, text, category_id, source, confirmed_at) "
            "VALUES (:t, 'x', :c, 'labelled_set', now())", t=district.id, c=street)
