"""The demo roster seed gives the demo unit a 24-hour rotation, once."""
from __future__ import annotations

from sqlalchemy import select

from tests.test_roster_support import district  # noqa: F401


def test_the_demo_seed_covers_the_unit_and_runs_twice_safely(app, client, district, factory, sql):
    from app.blueprints.rosters import service
    from app.blueprints.rosters.demo import seed_demo_roster
    from app.blueprints.units.models import Unit
    from app.blueprints.users.models import User
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    with app.app_context(), tenant_scope([district.tenant.id], is_platform=True):
        tenant = db.session.get(Tenant, district.tenant.id)
        unit = db.session.execute(select(Unit).where(Unit.id == district.unit_id)).scalar_one()
        users = db.session.execute(
            select(User).where(User.unit_id == unit.id).order_by(User.id)).unique().scalars().all()
        dispatcher = db.session.get(User, factory.user(district.tenant, "dispatcher").id)

        first = seed_demo_roster(tenant, unit, [*users, dispatcher])   # the dispatcher is left out
        again = seed_demo_roster(tenant, unit, users)

        assert again.id == first.id and list(first.user_ids) == [user.id for user in users]
        [shift] = service.on_duty(unit_id=unit.id)
        assert shift.user.id in first.user_ids
    assert sql("SELECT count(*) FROM roster_patterns")[0][0] == 1
    assert sql("SELECT count(*) FROM audit_events WHERE action = 'roster_pattern.created' "
               "AND actor_user_id IS NULL")[0][0] == 1
