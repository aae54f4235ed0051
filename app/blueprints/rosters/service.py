"""Changing duty rosters: patterns (排班规则) and overrides (调班/加班/取消), with their rules.

- Only the linkage office, or the liaison or leader of the unit itself, changes a roster.
- Only active unit_liaison, unit_leader or responder users of the unit stand its duty.
- A person never overlaps themselves: an override that would is refused here (409
  `user_already_on_duty`); patterns, which repeat without end, may still meet one
  another, and reading merges a person's overlapping shifts into one.
Every change is audited with before and after. Reading lives in `duty.py`.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.blueprints.audit import service as audit
from app.blueprints.rosters import duty
from app.blueprints.rosters.duty import on_duty  # noqa: F401  (the seam: service.on_duty)
from app.blueprints.rosters.models import (OverrideKind, RosterOverride, RosterPattern, RosterPatternSlot,
                                           may_be_on_duty)
from app.blueprints.units.models import Unit
from app.blueprints.users.models import User
from app.common.listing import paginate
from app.common.models import utcnow
from app.common.roles import Role
from app.database import unit_of_work
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.extensions import db
from app.tenants.models import Tenant

MAX_OVERRIDE = timedelta(days=31)
_PATTERN_COLUMNS = ("name", "starts_on", "start_time", "shift_hours", "every_hours", "ends_on")
_PATTERN_FIELDS = (*_PATTERN_COLUMNS, "user_ids")
_OVERRIDE_FIELDS = ("user_id", "replaced_user_id", "starts_at", "ends_at", "note")
_NAME_CONSTRAINT = "uq_roster_patterns_live_name"


# --- who may change what -----------------------------------------------------------------------

def _check_may_manage(actor: User | None, unit: Unit) -> None:
    # No actor: a system operation (demo seed, CLI) that runs in an explicit tenant scope.
    if actor is None or actor.has_role(Role.TENANT_ADMIN):
        return
    if actor.has_role(Role.UNIT_LIAISON, Role.UNIT_LEADER) and actor.unit_id == unit.id:
        return
    raise Forbidden("not_your_unit", "You may change the roster of your own unit only.")


def _check_on_roster(unit: Unit, user_ids: list[int], field: str) -> None:
    """Each user is an active liaison, leader or responder of the unit (422 otherwise)."""
    users = {user.id: user for user in db.session.execute(
        select(User).where(User.tenant_id == unit.tenant_id, User.id.in_(set(user_ids)))).unique().scalars()}
    problems: dict[int, tuple[str, str]] = {}
    for index, user_id in enumerate(user_ids):
        user = users.get(user_id)
        if user is None:
            problems[index] = ("user_not_found", f"No user {user_id} in this district.")
        elif not user.is_active:
            problems[index] = ("user_inactive", f"{user.display_name} is deactivated.")
        elif not may_be_on_duty(user, unit.id):
            problems[index] = ("user_not_in_unit",
                               f"{user.display_name} is not a liaison, leader or responder of {unit.name}.")
    if problems:
        code, message = next(iter(problems.values()))
        errors = ({field: {index: [text] for index, (_code, text) in problems.items()}}
                  if field.endswith("_ids") else {field: [message]})
        raise Unprocessable(code, message, errors=errors)


def _local(moment: datetime, tenant: Tenant) -> str:
    return moment.astimezone(duty.tenant_zone(tenant)).strftime("%Y-%m-%d %H:%M")


# --- patterns ----------------------------------------------------------------------------------

def pattern_snapshot(pattern: RosterPattern) -> dict:
    return {"unit_id": pattern.unit_id, "name": pattern.name, "starts_on": pattern.starts_on.isoformat(),
            "start_time": pattern.start_time.strftime("%H:%M"), "shift_hours": pattern.shift_hours,
            "every_hours": pattern.every_hours,
            "ends_on": pattern.ends_on.isoformat() if pattern.ends_on else None,
            "user_ids": list(pattern.user_ids)}


def list_patterns(*, unit_id: int, pagination) -> list[RosterPattern]:
    unit = duty.get_unit(unit_id=unit_id)
    statement = select(RosterPattern).where(RosterPattern.tenant_id == unit.tenant_id, RosterPattern.unit_id == unit.id,
                                            RosterPattern.deleted_at.is_(None)).order_by(RosterPattern.name)
    return paginate(statement, pagination, tiebreak=RosterPattern.id)


def _get_pattern(unit: Unit, pattern_id: int, *, live: bool = False) -> RosterPattern:
    """A pattern of the unit; a deleted one too (it reads as a record) unless `live`."""
    pattern = db.session.execute(select(RosterPattern).where(
        RosterPattern.tenant_id == unit.tenant_id, RosterPattern.unit_id == unit.id,
        RosterPattern.id == pattern_id)).scalar_one_or_none()
    if pattern is None:
        raise NotFound("pattern_not_found", "No such roster pattern in this unit.")
    if live and pattern.deleted_at is not None:
        raise Conflict("pattern_deleted", "This roster pattern was deleted; create a new one.")
    return pattern


def get_pattern(*, unit_id: int, pattern_id: int) -> RosterPattern:
    return _get_pattern(duty.get_unit(unit_id=unit_id), pattern_id)


def _apply_pattern(unit: Unit, pattern: RosterPattern, values: dict) -> None:
    if values["ends_on"] is not None and values["ends_on"] < values["starts_on"]:
        raise Unprocessable("ends_before_start", "The pattern cannot end before it starts.",
                            errors={"ends_on": ["Before `starts_on`."]})
    if values["every_hours"] is not None and values["every_hours"] < values["shift_hours"]:
        raise Unprocessable("shifts_overlap_themselves", "A shift cannot be longer than the interval between starts.",
                            errors={"every_hours": ["Less than `shift_hours`."]})
    _check_on_roster(unit, values["user_ids"], "user_ids")
    for field in _PATTERN_COLUMNS:
        setattr(pattern, field, values[field])
    # Rewrite the rotation in place: same positions keep their rows.
    slots = {slot.position: slot for slot in pattern.slots}
    for position, user_id in enumerate(values["user_ids"]):
        if position in slots:
            slots[position].user_id = user_id
        else:
            pattern.slots.append(RosterPatternSlot(tenant_id=unit.tenant_id, position=position, user_id=user_id))
    pattern.slots[:] = [slot for slot in pattern.slots if slot.position < len(values["user_ids"])]


def _flush_pattern() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        if getattr(error.orig.diag, "constraint_name", None) != _NAME_CONSTRAINT:
            raise
        raise Conflict("pattern_name_taken", "The unit already has a pattern of that name.",
                       errors={"name": ["Already in use in this unit."]}) from None


def create_pattern(*, actor: User | None, unit_id: int, name: str, starts_on: date, start_time: time,
                   shift_hours: int, user_ids: list[int], every_hours: int | None = None,
                   ends_on: date | None = None) -> RosterPattern:
    """A new rotation. `starts_on` may lie in the past: it anchors who is on duty when."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        pattern = RosterPattern(tenant_id=unit.tenant_id, unit_id=unit.id)
        # Checked before it joins the session: the checks' queries must not flush it half-made.
        _apply_pattern(unit, pattern, dict(name=name, starts_on=starts_on, start_time=start_time,
                                           shift_hours=shift_hours, every_hours=every_hours, ends_on=ends_on,
                                           user_ids=user_ids))
        db.session.add(pattern)
        _flush_pattern()
        audit.record("roster_pattern.created", tenant_id=unit.tenant_id, actor=actor,
                     target_type="roster_pattern", target_id=pattern.id, after=pattern_snapshot(pattern))
    return pattern


def update_pattern(*, actor: User | None, unit_id: int, pattern_id: int, changes: dict) -> RosterPattern:
    """Change any field. To retire a rotation but keep its past, set `ends_on` rather than delete."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        pattern = _get_pattern(unit, pattern_id, live=True)
        before = pattern_snapshot(pattern)
        current = {field: getattr(pattern, field) for field in _PATTERN_FIELDS}
        current["user_ids"] = list(pattern.user_ids)
        _apply_pattern(unit, pattern, {**current, **changes})
        _flush_pattern()
        db.session.expire(pattern, ["slots"])
        after = pattern_snapshot(pattern)
        if after != before:
            audit.record("roster_pattern.updated", tenant_id=unit.tenant_id, actor=actor,
                         target_type="roster_pattern", target_id=pattern.id, before=before, after=after)
    return pattern


def delete_pattern(*, actor: User | None, unit_id: int, pattern_id: int) -> None:
    """Withdraw a rotation, its past included; the row is kept, marked deleted. Repeating is a no-op."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        pattern = _get_pattern(unit, pattern_id)
        if pattern.deleted_at is not None:
            return
        pattern.deleted_at = utcnow()
        audit.record("roster_pattern.deleted", tenant_id=unit.tenant_id, actor=actor,
                     target_type="roster_pattern", target_id=pattern.id, before=pattern_snapshot(pattern))


# --- overrides ---------------------------------------------------------------------------------

def override_snapshot(override: RosterOverride) -> dict:
    return {"unit_id": override.unit_id, "kind": override.kind, "user_id": override.user_id,
            "replaced_user_id": override.replaced_user_id,
            "starts_at": override.starts_at.astimezone(UTC).isoformat(),
            "ends_at": override.ends_at.astimezone(UTC).isoformat(), "note": override.note}


def list_overrides(*, unit_id: int, pagination, window_from: datetime | None = None,
                   window_to: datetime | None = None, kind: str | None = None,
                   user_id: int | None = None) -> list[RosterOverride]:
    """A unit's overrides, earliest first; those intersecting [from, to) when given."""
    unit = duty.get_unit(unit_id=unit_id)
    statement = select(RosterOverride).where(RosterOverride.tenant_id == unit.tenant_id,
                                             RosterOverride.unit_id == unit.id, RosterOverride.deleted_at.is_(None))
    if window_from is not None:
        statement = statement.where(RosterOverride.ends_at > window_from)
    if window_to is not None:
        statement = statement.where(RosterOverride.starts_at < window_to)
    if kind is not None:
        statement = statement.where(RosterOverride.kind == kind)
    if user_id is not None:
        statement = statement.where((RosterOverride.user_id == user_id)
                                    | (RosterOverride.replaced_user_id == user_id))
    return paginate(statement.order_by(RosterOverride.starts_at), pagination, tiebreak=RosterOverride.id)


def _get_override(unit: Unit, override_id: int, *, live: bool = False) -> RosterOverride:
    """An override of the unit; a deleted one too (it reads as a record) unless `live`."""
    override = db.session.execute(select(RosterOverride).where(
        RosterOverride.tenant_id == unit.tenant_id, RosterOverride.unit_id == unit.id,
        RosterOverride.id == override_id)).unique().scalar_one_or_none()
    if override is None:
        raise NotFound("override_not_found", "No such roster override in this unit.")
    if live and override.deleted_at is not None:
        raise Conflict("override_deleted", "This roster override was withdrawn; create a new one.")
    return override


def get_override(*, unit_id: int, override_id: int) -> RosterOverride:
    return _get_override(duty.get_unit(unit_id=unit_id), override_id)


def _check_override_shape(values: dict) -> None:
    if values["ends_at"] <= values["starts_at"]:
        raise Unprocessable("ends_before_start", "An override must end after it starts.",
                            errors={"ends_at": ["Not after `starts_at`."]})
    if values["ends_at"] - values["starts_at"] > MAX_OVERRIDE:
        raise Unprocessable("override_too_long", f"An override spans at most {MAX_OVERRIDE.days} days.",
                            errors={"ends_at": [f"At most {MAX_OVERRIDE.days} days after `starts_at`."]})
    replaced = values["replaced_user_id"]
    if values["kind"] == OverrideKind.REPLACE and replaced is None:
        raise Unprocessable("replaced_user_required", "Say whose duty is being taken over.",
                            errors={"replaced_user_id": ["Required for `replace`."]})
    if values["kind"] != OverrideKind.REPLACE and replaced is not None:
        raise Unprocessable("replaced_user_not_allowed", "Only a `replace` names a replaced user.",
                            errors={"replaced_user_id": ["Only for `replace`."]})
    if replaced is not None and replaced == values["user_id"]:
        raise Unprocessable("cannot_replace_self", "A person cannot take over their own duty.",
                            errors={"replaced_user_id": ["Same as `user_id`."]})


def _check_against_roster(tenant: Tenant, unit: Unit, values: dict, exclude_override_id: int | None) -> None:
    """The override changes something, and never puts a person on duty twice at once."""
    start, end = values["starts_at"], values["ends_at"]
    segments = duty.segments_by_unit([unit], duty.tenant_zone(tenant), start, end,
                                     exclude_override_id=exclude_override_id, merge=False)[unit.id]
    subject = values["replaced_user_id"] if values["kind"] == OverrideKind.REPLACE else values["user_id"]
    taken = [(max(s.starts_at, start), min(s.ends_at, end)) for s in segments if s.user_id == subject]
    if values["kind"] != OverrideKind.EXTRA and not taken:
        field = "replaced_user_id" if values["kind"] == OverrideKind.REPLACE else "user_id"
        raise Conflict("not_on_duty", "That person is not on duty at any time in the interval.",
                       errors={field: ["Not on duty in this interval."]})
    if values["kind"] == OverrideKind.CANCEL:
        return
    # The person put on duty: the whole interval for an extra, the taken-over parts for a replace.
    needed = [(start, end)] if values["kind"] == OverrideKind.EXTRA else taken
    for segment in segments:
        if segment.user_id != values["user_id"]:
            continue
        for part_start, part_end in needed:
            if segment.overlaps(part_start, part_end):
                raise Conflict("user_already_on_duty",
                               f"Already on duty {_local(segment.starts_at, tenant)} - "
                               f"{_local(segment.ends_at, tenant)} ({tenant.time_zone}).",
                               errors={"user_id": ["Already on duty then."]})


def _apply_override(tenant: Tenant, unit: Unit, override: RosterOverride, values: dict,
                    exclude_override_id: int | None) -> None:
    values = {**values, "starts_at": values["starts_at"].astimezone(UTC),
              "ends_at": values["ends_at"].astimezone(UTC)}
    _check_override_shape(values)
    if values["kind"] != OverrideKind.CANCEL:
        _check_on_roster(unit, [values["user_id"]], "user_id")
    else:
        _check_user_exists(unit, values["user_id"], "user_id")
    if values["replaced_user_id"] is not None:
        _check_user_exists(unit, values["replaced_user_id"], "replaced_user_id")
    _check_against_roster(tenant, unit, values, exclude_override_id)
    for field in ("kind", *_OVERRIDE_FIELDS):
        setattr(override, field, values[field])


def _check_user_exists(unit: Unit, user_id: int, field: str) -> None:
    # A person no longer of the unit may still be taken off, or replaced on, its roster.
    if db.session.execute(select(User.id).where(User.tenant_id == unit.tenant_id, User.id == user_id)).first() is None:
        raise Unprocessable("user_not_found", f"No user {user_id} in this district.",
                            errors={field: ["Unknown user."]})


def create_override(*, tenant: Tenant, actor: User | None, unit_id: int, kind: str, user_id: int,
                    starts_at: datetime, ends_at: datetime, replaced_user_id: int | None = None,
                    note: str = "") -> RosterOverride:
    """A one-off change: an extra shift, a replacement (one side of a swap) or a cancellation."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        override = RosterOverride(tenant_id=unit.tenant_id, unit_id=unit.id)
        # Checked before it joins the session: the checks' queries must not flush it half-made.
        _apply_override(tenant, unit, override, dict(kind=kind, user_id=user_id, starts_at=starts_at,
                                                     ends_at=ends_at, replaced_user_id=replaced_user_id,
                                                     note=note), exclude_override_id=None)
        db.session.add(override)
        db.session.flush()
        audit.record("roster_override.created", tenant_id=unit.tenant_id, actor=actor,
                     target_type="roster_override", target_id=override.id, after=override_snapshot(override))
    return override


def update_override(*, tenant: Tenant, actor: User | None, unit_id: int, override_id: int,
                    changes: dict) -> RosterOverride:
    """Change who, when or the note; the kind stays (delete and create to change it)."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        override = _get_override(unit, override_id, live=True)
        before = override_snapshot(override)
        current = {field: getattr(override, field) for field in ("kind", *_OVERRIDE_FIELDS)}
        values = {**current, **changes}
        if any(values[f] != current[f] for f in ("user_id", "replaced_user_id", "starts_at", "ends_at")):
            _apply_override(tenant, unit, override, values, exclude_override_id=override.id)
        else:
            override.note = values["note"]  # who and when unchanged: nothing to re-check
        db.session.flush()
        db.session.expire(override, ["user", "replaced_user"])
        after = override_snapshot(override)
        if after != before:
            audit.record("roster_override.updated", tenant_id=unit.tenant_id, actor=actor,
                         target_type="roster_override", target_id=override.id, before=before, after=after)
    return override


def delete_override(*, actor: User | None, unit_id: int, override_id: int) -> None:
    """Withdraw an override; the row is kept, marked deleted. Repeating is a no-op."""
    with unit_of_work():
        unit = duty.get_unit(unit_id=unit_id, for_update=True)
        _check_may_manage(actor, unit)
        override = _get_override(unit, override_id)
        if override.deleted_at is not None:
            return
        override.deleted_at = utcnow()
        audit.record("roster_override.deleted", tenant_id=unit.tenant_id, actor=actor,
                     target_type="roster_override", target_id=override.id, before=override_snapshot(override))
