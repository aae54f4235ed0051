"""Demo data for duty rosters: a 24-hour rotation for one unit of the demo district.

`app/demo.py` calls `seed_demo_roster(tenant, unit, users)` inside the demo district's
tenant scope, after creating the unit's users.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.blueprints.rosters import duty, service
from app.blueprints.rosters.models import RosterPattern, may_be_on_duty

DEMO_PATTERN_NAME = "24小时值班轮换"


def seed_demo_roster(tenant, unit, users) -> RosterPattern | None:
    """A 24 h rotation, handing over at 08:00 local, among the unit's eligible `users`, in the order given.

    Idempotent: a unit that already has the demo pattern is left as it is. Returns the
    pattern, or None when none of `users` may stand the unit's duty.
    """
    from app.extensions import db

    existing = db.session.execute(select(RosterPattern).where(
        RosterPattern.tenant_id == tenant.id, RosterPattern.unit_id == unit.id,
        RosterPattern.name == DEMO_PATTERN_NAME, RosterPattern.deleted_at.is_(None))).scalar_one_or_none()
    if existing is not None:
        return existing
    user_ids = [user.id for user in users if may_be_on_duty(user, unit.id)]
    if not user_ids:
        return None
    # From yesterday, so that someone is on duty at once even before 08:00 today.
    yesterday = datetime.now(duty.tenant_zone(tenant)).date() - timedelta(days=1)
    return service.create_pattern(actor=None, unit_id=unit.id, name=DEMO_PATTERN_NAME, starts_on=yesterday,
                                  start_time=time(8, 0), shift_hours=24, user_ids=user_ids)
