"""Who is on duty (值班): a unit's roster resolved from the database, now or over a window.

`on_duty(unit_id=..., at=...)` is the seam other domains call (reminders send the
yellow 催办 to the people on duty). Everything here only reads.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.blueprints.rosters import timeline
from app.blueprints.rosters.models import RosterOverride, RosterPattern, may_be_on_duty
from app.blueprints.units.models import DutyClass, Unit
from app.blueprints.users.models import User
from app.common.models import utcnow
from app.errors import NotFound, Unprocessable
from app.extensions import db
from app.tenants.models import Tenant

MAX_WINDOW = timedelta(days=42)      # a six-week calendar page
DEFAULT_WINDOW = timedelta(days=7)
GAP_HORIZON = timedelta(hours=24)    # Article 12: emergency units keep 24-hour duty


@dataclass(frozen=True)
class DutyShift:
    """A resolved shift of one person. `is_eligible` is false when the person has since left
    the unit, been deactivated or lost their unit role: such a shift covers nothing."""

    user: User
    starts_at: datetime
    ends_at: datetime
    pattern_ids: tuple[int, ...]
    override_ids: tuple[int, ...]
    is_eligible: bool

    @property
    def user_id(self) -> int:
        return self.user.id


@dataclass(frozen=True)
class Gap:
    """Nobody eligible is on duty for an emergency unit in [starts_at, ends_at)."""

    unit: Unit
    starts_at: datetime
    ends_at: datetime
    is_now: bool          # the gap is open at the instant checked
    is_open_ended: bool   # it lasts at least until the end of the horizon


def tenant_zone(tenant: Tenant) -> ZoneInfo:
    return ZoneInfo(tenant.time_zone)  # validated when the tenant's zone is set


def get_unit(*, unit_id: int, for_update: bool = False) -> Unit:
    """A unit of the current tenant scope; others do not exist for the caller."""
    statement = select(Unit).where(Unit.id == unit_id)
    if for_update:
        # Serialises roster changes of one unit, so two overlap checks cannot both pass.
        # NO KEY UPDATE: rows referencing the unit may still be inserted meanwhile.
        statement = statement.with_for_update(key_share=True)
    unit = db.session.execute(statement).scalar_one_or_none()
    if unit is None:
        raise NotFound("unit_not_found", "No such unit.")
    return unit


def segments_by_unit(units: list[Unit], zone: ZoneInfo, start: datetime, end: datetime, *,
                     exclude_override_id: int | None = None, merge: bool = True
                     ) -> dict[int, list[timeline.Segment]]:
    """Every unit's duty intersecting [start, end), eligible or not."""
    unit_ids = [unit.id for unit in units]
    if not unit_ids:
        return {}
    tenant_ids = {unit.tenant_id for unit in units}
    patterns = db.session.execute(
        select(RosterPattern).where(RosterPattern.tenant_id.in_(tenant_ids), RosterPattern.unit_id.in_(unit_ids),
                                    RosterPattern.deleted_at.is_(None))
    ).scalars().all()
    override_query = select(RosterOverride).where(
        RosterOverride.tenant_id.in_(tenant_ids), RosterOverride.unit_id.in_(unit_ids),
        RosterOverride.deleted_at.is_(None),
        RosterOverride.starts_at < end + timeline.PAD, RosterOverride.ends_at > start - timeline.PAD)
    if exclude_override_id is not None:
        override_query = override_query.where(RosterOverride.id != exclude_override_id)
    overrides = db.session.execute(override_query).unique().scalars().all()
    patterns_of, overrides_of = defaultdict(list), defaultdict(list)
    for pattern in patterns:
        patterns_of[pattern.unit_id].append(pattern)
    for override in overrides:
        overrides_of[override.unit_id].append(override)
    return {unit_id: timeline.resolve(patterns_of[unit_id], overrides_of[unit_id], zone, start, end, merge=merge)
            for unit_id in unit_ids}


def _as_shifts(unit: Unit, segments: list[timeline.Segment]) -> list[DutyShift]:
    user_ids = {segment.user_id for segment in segments}
    users = {user.id: user for user in db.session.execute(
        select(User).where(User.tenant_id == unit.tenant_id, User.id.in_(user_ids))).unique().scalars()
    } if user_ids else {}
    return [DutyShift(users[s.user_id], s.starts_at, s.ends_at, s.pattern_ids, s.override_ids,
                      may_be_on_duty(users[s.user_id], unit.id))
            for s in segments if s.user_id in users]


def _eligible_segments(unit: Unit, segments: list[timeline.Segment]) -> list[timeline.Segment]:
    eligible = {shift.user_id for shift in _as_shifts(unit, segments) if shift.is_eligible}
    return [segment for segment in segments if segment.user_id in eligible]


def on_duty(*, unit_id: int, at: datetime | None = None) -> list[DutyShift]:
    """The people eligibly on duty for the unit at `at` (default now), in the current tenant scope.

    For jobs: open a `tenant_scope([tenant_id])` first; the unit's tenant gives the time zone.
    """
    at = (at or utcnow()).astimezone(UTC)
    unit = get_unit(unit_id=unit_id)
    zone = tenant_zone(db.session.get(Tenant, unit.tenant_id))
    segments = segments_by_unit([unit], zone, at, at + timedelta(microseconds=1))[unit.id]
    shifts = [shift for shift in _as_shifts(unit, segments) if shift.is_eligible and shift.starts_at <= at]
    return sorted(shifts, key=lambda shift: (shift.starts_at, shift.user.display_name, shift.user.id))


def on_duty_view(*, tenant: Tenant, unit_id: int, at: datetime | None = None) -> dict:
    at = (at or utcnow()).astimezone(UTC)
    return {"unit": get_unit(unit_id=unit_id), "time_zone": tenant.time_zone, "at": at,
            "on_duty": on_duty(unit_id=unit_id, at=at)}


def window(*, tenant: Tenant, unit_id: int, start: datetime | None = None,
           end: datetime | None = None) -> dict:
    """Every shift of the unit intersecting [start, end), shown whole, ineligible ones flagged."""
    start = (start or utcnow()).astimezone(UTC)
    end = (end or start + DEFAULT_WINDOW).astimezone(UTC)
    if end <= start:
        raise Unprocessable("window_empty", "`to` must be after `from`.", errors={"to": ["Must be after `from`."]})
    if end - start > MAX_WINDOW:
        raise Unprocessable("window_too_long", f"At most {MAX_WINDOW.days} days at a time.",
                            errors={"to": [f"At most {MAX_WINDOW.days} days after `from`."]})
    unit = get_unit(unit_id=unit_id)
    segments = segments_by_unit([unit], tenant_zone(tenant), start, end)[unit.id]
    return {"unit": unit, "time_zone": tenant.time_zone, "window_from": start, "window_to": end,
            "shifts": _as_shifts(unit, segments)}


def coverage_gaps(*, tenant: Tenant, at: datetime | None = None) -> dict:
    """Where an active emergency unit has nobody eligible on duty, from `at` for 24 hours."""
    start = (at or utcnow()).astimezone(UTC)
    end = start + GAP_HORIZON
    units = db.session.execute(
        select(Unit).where(Unit.tenant_id == tenant.id, Unit.duty_class == DutyClass.EMERGENCY.value,
                           Unit.is_active.is_(True)).order_by(Unit.sort_order, Unit.id)
    ).scalars().all()
    resolved = segments_by_unit(list(units), tenant_zone(tenant), start, end)
    found = []
    for unit in units:
        for gap_start, gap_end in timeline.gaps(_eligible_segments(unit, resolved[unit.id]), start, end):
            found.append(Gap(unit, gap_start, gap_end, is_now=gap_start == start, is_open_ended=gap_end == end))
    order = {unit.id: index for index, unit in enumerate(units)}
    found.sort(key=lambda gap: (gap.starts_at, order[gap.unit.id]))
    return {"tenant_code": tenant.code, "time_zone": tenant.time_zone, "checked_from": start,
            "checked_until": end, "gaps": found}
