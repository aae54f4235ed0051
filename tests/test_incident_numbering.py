"""Incident numbers `<tenant code>-<yyyymmdd>-<serial>`: gapless and unique under concurrency, per local day."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from tests.factories import assert_error, auth, client_from
from tests.test_incident_support import call, desk, local, record  # noqa: F401


def test_twenty_concurrent_intakes_get_serials_one_to_twenty(app, client, desk, sql):
    headers = desk.headers["dispatcher"]
    start = threading.Barrier(20)

    def intake(n: int):
        own_client = client_from(app, f"10.250.0.{n + 1}")
        start.wait(timeout=30)
        return own_client.post(desk.url(), json=call(description=f"第{n}个报警：燃气泄漏"), headers=headers)

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(intake, range(20)))

    assert [r.status_code for r in responses] == [201] * 20, [r.get_json() for r in responses if r.status_code != 201]
    numbers = sorted(r.get_json()["incident"]["number"] for r in responses)
    day = numbers[0].split("-")[1]
    assert numbers == [f"620602-{day}-{serial:04d}" for serial in range(1, 21)]
    assert sql("SELECT count(*), count(DISTINCT number) FROM incidents")[0] == (20, 20)
    assert sql("SELECT last_serial FROM incident_counters")[0][0] == 20


def test_the_serial_restarts_at_local_midnight_not_utc_midnight(client, desk):
    # 23:59 and 00:01 in Shanghai are 15:59 and 16:01 of the same UTC day.
    late = record(client, desk, received_at=local("2026-03-01 23:59:00").isoformat())["incident"]
    later = record(client, desk, received_at=local("2026-03-01 23:59:30").isoformat())["incident"]
    next_day = record(client, desk, received_at=local("2026-03-02 00:01:00").isoformat())["incident"]

    assert [late["number"], later["number"], next_day["number"]] == [
        "620602-20260301-0001", "620602-20260301-0002", "620602-20260302-0001"]


def test_a_refused_intake_gives_its_serial_back(app, client, desk, sql):
    refused = client.post(desk.url(), json=call(category_id=999_999), headers=desk.headers["dispatcher"])
    assert_error(refused, 422, "category_not_found")

    assert record(client, desk)["incident"]["number"].endswith("-0001")


def test_each_district_counts_its_own_serials(client, desk, factory):
    other = factory.tenant("620102", "城关区")
    other_desk = auth(client, factory.user(other, "dispatcher", username="desk.620102"))
    record(client, desk)

    response = client.post("/api/v1/t/620102/incidents", json=call(), headers=other_desk)

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["incident"]["number"].startswith("620102-")
    assert response.get_json()["incident"]["number"].endswith("-0001")


def test_the_number_day_is_the_service_clock_when_no_time_is_given(app, desk):
    from app.blueprints.incidents import service
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope([desk.tenant.id]):
        tenant = db.session.get(Tenant, desk.tenant.id)
        actor = db.session.get(User, desk.dispatcher.id)
        first = service.intake(tenant=tenant, actor=actor, source="sms", description="路灯不亮",
                               now=local("2026-05-31 23:59:59"))["incident"]
        second = service.intake(tenant=tenant, actor=actor, source="sms", description="路灯不亮",
                                now=local("2026-06-01 00:00:01"))["incident"]
        assert (first.number, second.number) == ("620602-20260531-0001", "620602-20260601-0001")
        db.session.rollback()
